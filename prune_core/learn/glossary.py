"""Plain-language meanings of the words the dashboard uses: the Learn page's glossary, and the help
texts of the options and metrics that carry the same words."""

GLOSSARY = {
    "pruning": "setting some of a trained network's weights to zero (or removing whole channels) "
    "to make it "
    "smaller or faster, then fine-tuning to win back accuracy.",
    "sparsity": "the share of weights that are zero. 80 % sparsity keeps one weight in five.",
    "criterion (score)": "how each weight's importance is measured; the lowest-scoring weights "
    "go first.",
    "magnitude": "score = |w|: small weights matter least.",
    "gradient": "score = |∂L/∂w|: how strongly the loss reacts to the weight right now.",
    "taylor": "score = |w·∂L/∂w|: the first-order estimate of the loss change if the weight is "
    "removed.",
    "fisher": "score = ½·F·w², with F the Fisher information (mean squared gradient): the "
    "second-order "
    "estimate of the loss a removal costs.",
    "wanda": "score = |w|·‖input‖: a weight matters more when the activations it multiplies are "
    "large.",
    "random": "scores drawn at random: the baseline every criterion has to beat.",
    "threshold": "remove every weight whose score is below this number (the sparsity follows "
    "from it).",
    "target sparsity": "remove exactly this share of weights, whatever their scores.",
    "layerwise / global / auto ranking": "every layer loses the same share / one ranking across "
    "all layers / "
    "per-layer shares chosen from each layer's measured sensitivity.",
    "unstructured": "single weights removed: zeros scattered in dense matrices; smaller when "
    "compressed, not "
    "faster on ordinary hardware.",
    "structured (channels)": "whole channels (filters) physically removed: a smaller dense model "
    "that runs faster.",
    "schedule": "when pruning happens: one-shot (all before fine-tuning), constant, or "
    "polynomial decay "
    "(sparsity raised gradually during fine-tuning, tfmot's schedule).",
    "fine-tuning": "training the pruned network a little more, with the removed weights held at "
    "zero.",
    "one-shot": "the schedule that prunes once, all at once, before fine-tuning starts (the "
    "curves on Explore are measured right after such a cut, before any fine-tuning).",
    "BatchNorm re-estimation": "recomputing the normalisation statistics after pruning on a few "
    "training "
    "batches; it alone recovers much of what pruning costs before fine-tuning.",
    "top-1 / top-5": "share of test images whose correct class is the model's first guess / "
    "among its first five.",
    "FLOPs": "multiply-adds one image needs; a rough measure of compute.",
    "theoretical speedup": "dense FLOPs ÷ FLOPs left if every zero were skipped; real hardware "
    "rarely gets it "
    "from scattered zeros.",
    "gzip bytes": "the saved model compressed: zeros compress, so this is where unstructured "
    "pruning shows.",
    "latency": "time for one image (batch 1), measured in rounds; shown with its band from the "
    "fastest to "
    "the slowest round. A difference inside the band is noise.",
    "LiteRT (TFLite)": "the on-device runtime for phones and boards; its latency is what a "
    "deployed model sees.",
    "int8": "weights and activations stored as 8-bit integers: about 4× smaller and often faster "
    "on devices.",
    "N:M sparsity": "in every group of M consecutive weights along the input channels, N are "
    "zero (2:4: two of "
    "every four). NVIDIA's sparse tensor cores (Ampere and newer GPUs) run 2:4 about twice as "
    "fast; "
    "CPUs, TFLite and LiteRT run it like any other zeros.",
    "block sparsity": "weights removed in small blocks (1×4: four neighbouring output channels "
    "of one input) that "
    "sparse kernels can skip as a whole, scored by the block's mean score.",
    "RigL (dynamic sparse training)": "while fine-tuning, every few steps drop the smallest kept "
    "weights and regrow "
    "as many where the gradient is largest, starting at zero: the sparsity stays, "
    "the mask moves to where it helps (Evci et al., 2020).",
    "Pareto front": "the runs no other run beats on both accuracy and cost at once.",
    "profile": "one measurement of a baseline under a criterion (every level before "
    "fine-tuning, every layer alone) that "
    "lets Explore answer what-ifs instantly.",
}


#: One-line help for the dashboard's options and metrics (the widgets' "?" tooltips).
HELP = {
    "amount": "Target sparsity: remove exactly this share. Threshold: remove everything scoring "
    "below a number.",
    "sparsities": "Share of prunable weights to remove (0.8 keeps one in five); several values "
    "make one run each.",
    "channel_multiple": "Hardware runs channel counts that are multiples of 8 or 16 fastest; 1 "
    "keeps any count.",
    "initial_sparsity": "Polynomial schedule: the sparsity at the begin step (tfmot's "
    "initial_sparsity).",
    "power": "Polynomial schedule: the exponent; higher prunes harder early (tfmot's default is "
    "3).",
    "begin_step": "The first fine-tune step a gradual schedule may prune at.",
    "end_step": "The last step it prunes at, where the target is reached (-1: keep pruning to "
    "the end; constant only).",
    "frequency": "Steps between two pruning events of a gradual schedule.",
    "fine_tune_epochs": "Epochs of training after (or while) pruning, with the pruned weights "
    "held at zero.",
    "learning_rate": "Peak fine-tune learning rate; it decays along a cosine to zero.",
    "reconstruct": "After a one-shot cut, refit each pruned layer's remaining weights (least "
    "squares, layer by layer) so its outputs match the dense layer's on calibration images: the "
    "pruned model starts closer to the dense one. Removed weights stay removed.",
    "distill": "Knowledge distillation: fine-tuning also matches the dense model's softened "
    "outputs, not only the labels. The weight is the dense model's share of the loss (0: labels "
    "only); it costs one forward pass of the dense model per step.",
    "temperature": "Distillation: how far the dense model's outputs are softened before they are "
    "matched; higher shows more of how it ranks the wrong classes.",
    "pattern": "Which weights may go together. Unstructured: any single weight. N:M: N of every "
    "M consecutive "
    "input-channel weights (2:4 is what NVIDIA's sparse tensor cores speed up; it fixes the "
    "sparsity at "
    "N/M). Block H×W: blocks of the kernel matrix, ranked by their mean score. “other…” takes "
    "any N:M or "
    "block:HxW.",
    "then_sparsity": "A combined recipe: after whole channels are cut, remove this share of the "
    "remaining weights "
    "(one global ranking, or the pattern's way), both before fine-tuning; export it to see int8 "
    "on top. The run reports each stage's numbers.",
    "regrow": "RigL: fine-tuning moves the mask. Every few steps each layer drops its smallest "
    "kept weights and "
    "regrows as many where the gradient is largest, starting at zero; the sparsity stays at the "
    "target.",
    "regrow_fraction": "RigL: the share of each layer's kept weights moved at the first update; "
    "it decays along a "
    "cosine to zero at three quarters of fine-tuning.",
    "regrow_every": "RigL: fine-tune steps between two updates.",
    "seed": "Fixes the data split, the calibration batches and the shuffling, so a run can be "
    "repeated.",
    "filter_model": "Show only runs of these models.",
    "filter_dataset": "Show only runs on these datasets.",
    "explore_sparsity": "The overall share of prunable weights removed; every curve's point "
    "there is marked.",
    "explore_scopes": "Uniform: every layer loses the same share. Global: one ranking over all "
    "layers. Automatic: "
    "per-layer shares from each layer's measured sensitivity.",
    "explore_flops": "Whole channels removed until this share of the FLOPs is gone (a smaller, "
    "faster dense model).",
    "explore_focus": "The criterion whose per-layer numbers are shown below.",
    "finetune_scope": "How the run ranks weights across layers (as on the curves above).",
    "finetune_epochs": "Epochs of fine-tuning for the queued run.",
    "top1": "Share of test images whose correct class is the model's first guess, after "
    "fine-tuning.",
    "gzip": "The saved .h5 model compressed with gzip: zeros compress, so this is where sparsity "
    "shows.",
    "run": "A completed run; its numbers, curves and files are shown below.",
    "runs_shown": "How many of the newest jobs to list.",
    "model_path": "A .keras or .h5 file under the folders this dashboard reads from "
    "(PRUNE_PATH_ROOTS).",
    "dataset_path": "A folder with one sub-folder of images per class (PNG, JPEG, BMP or GIF), "
    "at least 5 each.",
    "learn_w": "The trained value of this parameter.",
    "learn_f": "The Fisher information of this parameter: how sharply the loss curves along it.",
    "learn_threshold": "The threshold rule removes a parameter whose Fisher eigenvalue is lower.",
    "learn_pattern": "Half of the same kernel removed under each pattern; the dark lines outline "
    "the groups that "
    "are chosen together.",
    "learn_share": "The same share removed both ways: single weights (smallest |w|) or output "
    "channels (smallest L1 norm).",
    "learn_schedule": "tfmot's PolynomialDecay: change a knob and the curve follows.",
}
