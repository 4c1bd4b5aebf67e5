"""Compiled paths against their eager loops, per step, through the engine; compile time apart.

Per-step time is ``run.advance()`` after ``run.prepare()`` (so neither side pays an import or a
compile), divided by its steps. Each compiled path gets many more steps than its eager loop so both
sides run for a measurable time; the pair runs back to back. Compile times come from fresh
processes (benchmarks/probe.py): torch.compile once with an empty on-disk cache (what a fresh machine
pays) and once with the cache this machine has (what a restarted server pays).
"""
from __future__ import annotations

from dataclasses import dataclass

from fitcore import Run, RunConfig, is_available

from .probe import fresh_inductor_cache, run_probe
from .stats import Section, paired, ratios, stat

TF_TARGET = 100.0
GRAM_TARGET = 5.0


@dataclass(frozen=True)
class Pair:
    label: str
    problem: str
    variant: str | None
    impl: str
    eager_steps: int
    compiled_steps: int
    smoke_eager: int
    smoke_compiled: int
    dtype: str | None = None  # the notebook's unless given

    def config(self, compiled: bool, smoke: bool) -> RunConfig:
        steps = (self.smoke_compiled if smoke else self.compiled_steps) if compiled else \
            (self.smoke_eager if smoke else self.eager_steps)
        settings = {"dtype": self.dtype} if self.dtype else {}
        return RunConfig.notebook(self.problem, self.variant, impl=self.impl, compiled=compiled, steps=steps,
                                  **settings)


TF_PAIR = Pair("TensorFlow: XLA chunk vs eager GradientTape", "quadratic-bias", "tensorflow", "tf-tape",
               300, 2_000_000, 10, 5000)
GRAM_PAIR = Pair("NumPy: Gram matrix vs the plain loop (sine-cubic, 2000 points)", "sine-cubic", "numpy-2000",
                 "numpy", 2000, 2_000_000, 20, 500)
# float32 rounds the gradient every step, so the Gram path steps one update at a time there
GRAM_STEPWISE_PAIR = Pair("NumPy: Gram matrix vs the plain loop, float32", "sine-cubic", "numpy-2000", "numpy",
                          2000, 100_000, 20, 500, dtype="float32")
TORCH_PAIRS = tuple(
    Pair(f"PyTorch {style}: torch.compile vs eager", "quadratic-recovery", "pytorch", f"torch-{style}",
         4000, 100_000, 20, 200)
    for style in ("autograd", "manual", "nn"))


def seconds_per_step(config: RunConfig) -> float:
    run = Run(config)
    run.prepare()
    snapshot = run.advance()
    if snapshot.step != config.steps:
        raise RuntimeError(f"{config.impl} stopped at step {snapshot.step}: {snapshot.message}")
    return snapshot.elapsed / snapshot.step


def measure_pair(pair: Pair, runs: int, smoke: bool) -> dict[str, object]:
    eager, compiled = pair.config(False, smoke), pair.config(True, smoke)
    seconds_per_step(eager.replace(steps=min(eager.steps, 20)))
    seconds_per_step(compiled.replace(steps=min(compiled.steps, 100)))  # compiles (not timed)
    slow, fast = paired(lambda: seconds_per_step(eager), lambda: seconds_per_step(compiled), runs)
    return {"eager": stat([s * 1e6 for s in slow], "µs/step"), "compiled": stat([f * 1e6 for f in fast], "µs/step"),
            "speedup": ratios(slow, fast)}


def compile_seconds(impl: str, problem: str, runs: int, fresh_cache: bool) -> list[float]:
    samples = []
    for _ in range(runs):
        if fresh_cache:
            with fresh_inductor_cache() as cache:
                result = run_probe(["compile", impl, problem], env={"TORCHINDUCTOR_CACHE_DIR": cache})
        else:
            result = run_probe(["compile", impl, problem])
        samples.append(result["compile_s"])
    return samples


def _describe(pair: Pair, result: dict[str, object], smoke: bool) -> str:
    eager, compiled = pair.config(False, smoke), pair.config(True, smoke)
    return (f"{eager.problem} ({eager.optimizer} lr {eager.lr:g}, {eager.dtype}, {eager.points} points): eager "
            f"{eager.steps:,} steps at {result['eager'].text()}, compiled {compiled.steps:,} steps at "
            f"{result['compiled'].text()}")


def run_group(runs: int, smoke: bool) -> Section:
    section = Section("compiled", "Compiled paths against eager loops")
    section.notes.append(__doc__.split("\n\n", 1)[1].replace("\n", " "))
    if is_available("tf-tape"):
        result = measure_pair(TF_PAIR, runs, smoke)
        section.add("TensorFlow XLA chunk ÷ eager GradientTape, per step (speed-up)", result["speedup"],
                    f"≥ {TF_TARGET:g}×", result["speedup"].median >= TF_TARGET, _describe(TF_PAIR, result, smoke))
        compile_runs = compile_seconds("tf-tape", TF_PAIR.problem, 1 if smoke else runs, fresh_cache=False)
        section.add("TensorFlow XLA: trace + compile in a fresh process", stat(compile_runs, "s"),
                    note="tf.function(jit_compile=True) over a 4096-step while_loop; reported apart, not in µs/step")
    result = measure_pair(GRAM_PAIR, runs, smoke)
    section.add("NumPy Gram ÷ plain NumPy loop, per step (speed-up)", result["speedup"], f"≥ {GRAM_TARGET:g}×",
                result["speedup"].median >= GRAM_TARGET,
                _describe(GRAM_PAIR, result, smoke) + "; SGD in float64 advances in blocks of 256 steps, each one "
                "product of precomputed powers of the step's linear map (fitcore/impl/linear_steps.py)")
    result = measure_pair(GRAM_STEPWISE_PAIR, runs, smoke)
    section.add("NumPy Gram ÷ plain NumPy loop in float32, one update at a time (speed-up)", result["speedup"],
                note=_describe(GRAM_STEPWISE_PAIR, result, smoke) + "; float32 rounds the gradient every step, as "
                "the eager loop does, which no matrix power reproduces; Adam and RMSprop step one at a time too")
    if is_available("torch-autograd"):
        for pair in TORCH_PAIRS[:1] if smoke else TORCH_PAIRS:
            result = measure_pair(pair, runs, smoke)
            section.add(f"{pair.label}, per step (speed-up)", result["speedup"], "> 1× (compile apart)",
                        result["speedup"].median > 1.0, _describe(pair, result, smoke))
        if not smoke:  # each probe starts a Python, imports PyTorch and compiles: ~10 s (25 s with no cache)
            warm = compile_seconds("torch-autograd", "quadratic-recovery", runs, fresh_cache=False)
            section.add("torch.compile (autograd style): compile in a fresh process, this machine's on-disk cache",
                        stat(warm, "s"), note="what a restarted server pays on its first compiled PyTorch run")
            cold = compile_seconds("torch-autograd", "quadratic-recovery", runs, fresh_cache=True)
            section.add("torch.compile (autograd style): compile in a fresh process with an empty cache",
                        stat(cold, "s"), note="what a fresh machine pays once (Inductor generates and builds C++)")
    return section
