"""The package as a whole: its layers hold (no module reaches back through the top-level `derive`, whose lazy
names `lint-imports` cannot see through), and derive 0.1's flat module paths still import, with a
DeprecationWarning naming where each module lives now."""

from __future__ import annotations

import importlib
import subprocess
import sys
import warnings

import grimp
import pytest

OLD_MODULES = {  # derive 0.1's flat modules and the public names each defined (from its source at 78da1de)
    "answers": ("MAX_LINES", "AnswerError", "AnswerLine", "clean", "split_lines", "left_side_variable", "answer_symbols", "read_answer", "MAX_SUMS", "expand_sums"),
    "builders": ("sigmoid_chain", "LOSSES", "ACTIVATIONS", "mlp"),
    "check": ("BANDS", "PASSING", "BAND_RANK", "METHODS", "METHOD_TITLES", "CheckOptionError", "method_name", "band", "judged_band", "CheckEntry", "ComparisonRow", "CheckReport", "relative_error", "kink_expressions", "not_analytic_reason", "ScalarObjective", "MatrixObjective", "ScalarProblem", "MatrixProblem", "check_gradients", "with_comparison", "exact_check", "central_difference_check", "matrix_difference_check", "explicit_instance", "LazyPoint", "parse_point"),
    "comparison": ("EXACT_REFERENCE_LIMIT", "compare_methods"),
    "deadline": ("TimeLimitReached", "ChildCrashed", "Report", "within"),
    "demo": ("SEED_003", "SEED_003_ALL", "TITLE", "examples_dir", "seed_003_document"),
    "derivation": ("Solution", "Derivation"),
    "engine": ("differentiate", "name_intermediates", "linear_site", "GradientBuilder", "indexed_families", "derive"),
    "errors": ("DeriveError", "ProblemError", "LatexError", "MissingRuleError", "CheckError", "PdfError"),
    "estimate_render": ("MARKS", "Numbers", "render_report", "report_json", "write_plot", "plot_png"),
    "estimators": ("Estimator", "Model", "expert_numbers", "loss", "softmax_pullback", "exact_logit_gradient", "straight_through_mean", "ESTIMATORS", "z_scores", "bonferroni_limit", "rejected_entries", "Comparison", "describe_test", "compare", "EstimatorResult", "to_parameter", "study", "EstimateReport", "estimate", "validate_samples"),
    "exact": ("DIGITS", "AGREE", "elementary", "rational_point", "ExactEvaluator", "ExactComparison", "compare_exactly"),
    "forward_mode": ("tangent", "forward_mode_gradient"),
    "forward_pass": ("STABLE_FORMS", "StableForm", "Program", "Tape"),
    "grade": ("MAX_FILE_BYTES", "TIME_LIMIT", "MEMORY_LIMIT", "Rubric", "load_problem", "load_rubric", "read_submission", "split_answers", "ProblemText", "decide", "StudentResult", "Batch", "dask_executor", "submission_files", "grade", "feedback"),
    "graph": ("GRAPH_FORMATS", "layers", "number", "latex_number", "printer", "tikz", "dot_source", "dot_path", "render_graph", "graph_file"),
    "matrix_engine": ("SHORT", "pullback", "tidy", "pre_activations", "MatrixGradientBuilder", "final_form", "layer_recursions", "derive_matrix"),
    "matrix_ops": ("ShapeMismatch", "InternalError", "ENTRYWISE_FUNCTIONS", "KINKED", "Entrywise", "entrywise_class", "Softmax", "Diag", "SumEntries", "Mean", "FrobeniusNorm", "L1Norm", "scalars_of_matrices", "of_real_numbers", "SafeAbs", "SafeSign", "SafeMax", "SafeMin", "MATRIX_SAFE", "kept_from_matrices", "kinked", "ScalarGradientOf", "GradientOf", "is_matrix", "shape_text", "describe", "same", "matmul", "is_unit_1x1", "is_1x1", "as_scalar", "scale", "add", "sum_of", "negate", "subtract", "hadamard", "transpose", "inverse", "power", "divide", "hadamard_power", "root", "maximum", "minimum", "apply", "softmax", "diag", "trace", "det", "norm", "sum_entries", "mean", "ones", "identity", "entry_symbols", "dimensions_of", "explicit"),
    "matrix_parse": ("MAX_LENGTH", "MAX_DEPTH", "MAX_EXPONENT", "MAX_DIGITS", "MAX_POWER_DIGITS", "MAX_NAME", "parse_matrix_latex"),
    "matrix_rules": ("MatrixRule", "matrix_rule_for"),
    "methods": ("StepError", "DIFFERENCES", "EXPECTED_ORDER", "Precision", "PRECISIONS", "precision", "steps_for", "evaluate_rows", "differences", "complex_step", "unit_directions", "directional", "ORDER", "NOISE_GAIN", "ROUND_OFF_DEVIATIONS", "TRUNCATION_SAFETY", "DERIVED_ULPS", "COMPLEX_ULPS", "RATIO", "LARGEST_STEP", "PARTS", "Budget", "Quotients", "noise_level", "loss_noise", "round_off", "ladder_top", "judge", "in_wider", "wide_noise", "SweepSeries", "sweep_steps", "sweep", "ABOVE_ROUND_OFF", "ROUND_OFF_TAIL", "fitted_order", "theil_sen"),
    "network": ("make_symbol", "expand_definitions", "Network"),
    "numeric": ("NotAnalytic", "NUMPY_FUNCTIONS", "COMPLEX_FUNCTIONS", "stable", "compile_expression", "evaluate", "MatrixEvaluator"),
    "ops": ("sigmoid", "relu", "softplus", "tanh"),
    "output": ("TEX_INSTALL_HINT", "write_atomically", "check_writable", "pdflatex_path", "compile_pdf"),
    "parse": ("MAX_LENGTH", "symbol_name", "preprocess", "parse_latex", "SYMPY_FUNCTIONS", "parse_sympy"),
    "plots": ("IMAGE_FORMATS", "PLOT_FORMATS", "sweep_pgfplots", "sweep_image", "write_sweep"),
    "printing": ("DerivePrinter", "latex", "partial"),
    "problem": ("KNOWN_KEYS", "NOT_SYMMETRIC", "MLP_KEYS", "read_problem_file", "Problem"),
    "render": ("NOTE_WIDTH", "environment", "Part", "DocumentData", "ranks", "delta_names", "Context", "render_step", "blocks", "with_recursions", "render_document", "render_body", "render_aligned"),
    "resources": ("resource_dir",),
    "rules": ("Partials", "Rule", "lookup", "rule_for", "function_latex_names"),
    "steps": ("Key", "Definition", "LocalDerivative", "ChainRule", "Accumulate", "Substitution", "Delta", "Final", "General", "Pullback", "Recursion", "ByRecursion", "Step"),
    "stochastic": ("NODES", "LOSSES", "CORRECTIONS", "STOCHASTIC_KEYS", "EXPERT_KEYS", "TOP_KEYS", "StochasticProblem", "is_stochastic", "validate_distribution", "validate", "validate_tau", "NetworkExpert", "input_names", "log_softmax_derivation", "expert_derivation", "scalar_model", "expected_loss", "expert_outputs", "expert_losses", "sympy_exact_gradient", "expert_parameter_symbols", "sympy_expert_gradient"),
    "trace_matrix": ("Expansion", "expand_problem", "split_top", "matrix_rows", "matrix_entries", "missing_matrices", "entry_gradients"),
    "trace_methods": ("EPS", "MethodResult", "compare_methods", "exact_digits"),
    "trace_render": ("PASSES_PER_TABLE", "TraceContext", "render_trace", "summary", "trace_json"),
    "verify": ("RTOL", "POINTS", "SIZES", "MIN_POINTS", "KINK_DISTANCE", "SYMBOLIC_OPS", "EXACT_DIGITS", "TIME_LIMIT", "Evidence", "Diagnosis", "LineVerdict", "Verdict", "verify", "shape_words", "Judge"),
}
LEFT_OUT = {  # names of 0.1's modules that moved to a neighbouring module of the same package (internal ones)
    "estimators": ("MIN_ESTIMATES", "verdict"), "forward_pass": ("evaluate_in",), "matrix_engine": ("sympy_str",),
    "matrix_parse": ("Token",), "trace_render": ("DOCUMENT_FORMATS", "trace_files"), "verify": ("DIAGNOSIS_KINDS",),
}
PACKAGES = ("core", "read", "write", "check", "solve", "tracing", "grade", "stochastic")
STILL_THERE = ("builders", "matrix_ops", "check", "grade", "stochastic")  # the same path today: no warning to import


def test_no_package_imports_the_top_level_derive():
    """`import derive; derive.Network` inside core would be an upward import lint-imports cannot see."""
    graph = grimp.build_graph("derive", cache_dir=None)
    reaching_back = {}
    for module in sorted(graph.modules):
        if module.split(".")[1:2] and module.split(".")[1] in PACKAGES:
            lines = [d["line_contents"] for d in graph.get_import_details(importer=module, imported="derive")]
            lines = [line for line in lines if line != "from .. import __version__"]  # a plain string, not lazy
            if lines:
                reaching_back[module] = lines
    assert reaching_back == {}


@pytest.mark.parametrize("old, names", sorted(OLD_MODULES.items()))
def test_an_old_module_path_still_imports_with_a_warning(old, names):
    code = (f"import warnings\nwarnings.simplefilter('error', DeprecationWarning)\n"
            f"try:\n    import derive.{old}\nexcept DeprecationWarning as w:\n    print(w)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"derive.{old} is now derive.") or (old in STILL_THERE and not done.stdout)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # asserted above
        module = importlib.import_module(f"derive.{old}")
        assert [n for n in names if not hasattr(module, n)] == []


def test_old_names_of_modules_that_became_packages():
    with pytest.warns(DeprecationWarning, match="derive.stochastic.StochasticProblem is now"):
        from derive.stochastic import StochasticProblem  # noqa: F401
    with pytest.warns(DeprecationWarning, match="derive.grade.Rubric is now derive.grade.batch.Rubric"):
        from derive.grade import Rubric  # noqa: F401
    from derive.check import band, check_gradients, method_name  # noqa: F401
    import derive

    assert derive.grade.grade.__name__ == "grade" and derive.matrix_ops.matmul.__name__ == "matmul"
    with pytest.raises(AttributeError):
        derive.grade.no_such_name  # noqa: B018
