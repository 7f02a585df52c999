"""Plain-language meanings of the words the dashboard uses: the Learn page's glossary, and the help
texts of the options and metrics that carry the same words."""

GLOSSARY = {
    "pruning": "setting some of a trained network's weights to zero (or removing whole channels) to make it "
               "smaller or faster, then fine-tuning to win back accuracy.",
    "sparsity": "the share of weights that are zero. 80 % sparsity keeps one weight in five.",
    "criterion (score)": "how each weight's importance is measured; the lowest-scoring weights go first.",
    "magnitude": "score = |w|: small weights matter least.",
    "gradient": "score = |∂L/∂w|: how strongly the loss reacts to the weight right now.",
    "taylor": "score = |w·∂L/∂w|: the first-order estimate of the loss change if the weight is removed.",
    "fisher": "score = ½·F·w², with F the Fisher information (mean squared gradient): the second-order "
              "estimate of the loss a removal costs.",
    "wanda": "score = |w|·‖input‖: a weight matters more when the activations it multiplies are large.",
    "random": "scores drawn at random: the baseline every criterion has to beat.",
    "threshold": "remove every weight whose score is below this number (the sparsity follows from it).",
    "target sparsity": "remove exactly this share of weights, whatever their scores.",
    "layerwise / global / auto ranking": "every layer loses the same share / one ranking across all layers / "
                                         "per-layer shares chosen from each layer's measured sensitivity.",
    "unstructured": "single weights removed: zeros scattered in dense matrices; smaller when compressed, not "
                    "faster on ordinary hardware.",
    "structured (channels)": "whole channels (filters) physically removed: a smaller dense model that runs faster.",
    "schedule": "when pruning happens: one-shot (all before fine-tuning), constant, or polynomial decay "
                "(sparsity raised gradually during fine-tuning, tfmot's schedule).",
    "fine-tuning": "training the pruned network a little more, with the removed weights held at zero.",
    "one-shot": "pruned and measured without any fine-tuning (Explore's curves).",
    "BatchNorm re-estimation": "recomputing the normalisation statistics after pruning on a few training "
                               "batches; it alone recovers much of the one-shot loss.",
    "top-1 / top-5": "share of test images whose correct class is the model's first guess / among its first five.",
    "FLOPs": "multiply-adds one image needs; a rough measure of compute.",
    "theoretical speedup": "dense FLOPs ÷ FLOPs left if every zero were skipped; real hardware rarely gets it "
                           "from scattered zeros.",
    "gzip bytes": "the saved model compressed: zeros compress, so this is where unstructured pruning shows.",
    "latency": "time for one image (batch 1), measured in rounds; shown with its band from the fastest to "
               "the slowest round. A difference inside the band is noise.",
    "LiteRT (TFLite)": "the on-device runtime for phones and boards; its latency is what a deployed model sees.",
    "int8": "weights and activations stored as 8-bit integers: about 4× smaller and often faster on devices.",
    "Pareto front": "the runs no other run beats on both accuracy and cost at once.",
    "profile": "one measurement of a baseline under a criterion (every level one-shot, every layer alone) that "
               "lets Explore answer what-ifs instantly.",
}
