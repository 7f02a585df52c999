"""Tests for prune_core.results.deployment: deployment numbers keep their schema-1 names."""

from prune_core.results.run_result import RunResult
from tests.results.helpers import _old


def test_deployment_numbers_keep_their_names_and_values():
    old = _old()[0]
    result = RunResult.from_dict(old)
    assert result.deployment.get("int8", "gzip_bytes") == old["tflite_int8_gzip_bytes"]
    assert result.deployment.get("float", "ms_1t_b1_p50") == old["litert_1t_ms_b1_p50"]
    assert result.deployment.get("sparse", "ms_b1_p50") == old["litert_sparse_ms_b1_p50"]
    flat = result.deployment.to_dict()
    for key, value in flat.items():
        assert old[key] == value
    assert RunResult.from_dict(_old()[1]).deployment is None


def test_the_int8_to_ship_is_the_quantization_aware_file_only_where_it_measured_better():
    from prune_core.results.deployment import Deployment

    def deployment(ptq=None, qat=None):
        formats = {"float": {"top1": 0.9}}
        if ptq is not None:
            formats["int8"] = {"top1": ptq}
        if qat is not None:
            formats["int8_qat"] = {"top1": qat}
        return Deployment(formats)

    assert deployment(ptq=0.85, qat=0.90).int8_to_ship() == "int8_qat"
    assert deployment(ptq=0.86, qat=0.83).int8_to_ship() == "int8"
    assert deployment(ptq=0.86, qat=0.86).int8_to_ship() == "int8"  # a tie: no training needed
    assert deployment(ptq=0.86).int8_to_ship() == "int8"
    assert deployment().int8_to_ship() is None
