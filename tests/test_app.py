import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_home_page_renders_without_exceptions():
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not app.exception
    assert any("Pruning trade-offs" in t.value for t in app.title)


def test_streamlit_process_never_imports_tensorflow():
    code = ("import sys; from streamlit.testing.v1 import AppTest; "
            f"AppTest.from_file({str(ROOT / 'app.py')!r}, default_timeout=60).run(); "
            "bad = [m for m in ('tensorflow', 'tf_keras', 'tensorflow_model_optimization') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
