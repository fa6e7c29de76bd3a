"""core.metrics.parse_line on real output (fixtures captured from real runs) and on garbage."""
from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from core import metrics
from core.metrics import Parsed, canonical_name, parse_line

OUTPUT = Path(__file__).parent / "fixtures" / "output"


def physical_lines(name: str) -> list[str]:
    """A log split the way the supervisor splits it: on \\n only, \\r kept inside lines."""
    return (OUTPUT / name).read_bytes().decode("utf-8", "replace").split("\n")


def parsed_lines(name: str) -> list[Parsed]:
    return [p for p in map(parse_line, physical_lines(name)) if p is not None]


def values(parsed: list[Parsed], name: str) -> list[float]:
    return [p.metrics[name] for p in parsed if name in p.metrics]


# ---- our own runners' output -------------------------------------------------------------

def test_halo_sft_output():
    parsed = parsed_lines("halo_sft.log")
    assert values(parsed, "loss") == [6.9504, 6.9566, 6.9247]
    assert values(parsed, "lr") == [1.67e-04, 1.00e-04, 3.33e-05]
    assert values(parsed, "grad_norm") == [0.9725, 1.3320, 1.4849]
    assert values(parsed, "tokens_per_s") == [395.9, 532.5, 333.6, 388.9]
    assert values(parsed, "train_loss") == [6.943888]
    assert values(parsed, "final_loss") == [6.924667]
    assert [(p.step, p.total_steps) for p in parsed if p.total_steps] == [(2, 6), (4, 6), (6, 6)]
    assert {(p.epoch, p.total_epochs) for p in parsed if p.total_epochs} == {(1.0, 1)}
    assert [p.checkpoint for p in parsed if p.checkpoint] == [
        "/tmp/tt/sftjob/output/checkpoint-3", "/tmp/tt/sftjob/output/checkpoint-6"]
    # "adapter saved: PATH" is not a checkpoint, "model: ... output: ..." says nothing
    assert parse_line("adapter saved: /tmp/tt/sftjob/output/adapter") is None


def test_halo_raft_output_with_traceback():
    lines = physical_lines("halo_raft_traceback.log")
    parsed = [parse_line(line) for line in lines]
    cycles = [(p.cycle, p.total_cycles) for p in parsed if p is not None]
    assert cycles == [(1, 2)]
    traceback = [line for line in lines if line.startswith(("Traceback", "  File", "ImportError"))]
    assert traceback and all(parse_line(line) is None for line in traceback)


@pytest.mark.parametrize("line, expected", [
    # the exact f-strings of core/training/raft.py and core/benchmarks/runner.py
    ("verification rate: 0.4167", {"verification_rate": 0.4167}),
    ("Step 164/164 | verification rate: 0.2500", {"verification_rate": 0.25}),
    ('{"metric": {"step": 3, "gen_tokens_per_s": 41.27}}', {"gen_tokens_per_s": 41.27}),
])
def test_runner_lines(line, expected):
    assert parse_line(line).metrics == expected


def test_raft_cycle_summary_is_not_progress():
    # "cycle 1: 2/6 passed" must not read as Cycle 2/6
    assert parse_line("cycle 1: 2/6 passed, reward mean 0.3333, kept 2") is None


# ---- the contract shapes, case-insensitive ---------------------------------------------------

def test_all_facts_on_one_line():
    p = parse_line("Epoch 1/3 | Step 12/100 | loss: 0.1234 | lr: 5.00e-05 | grad_norm: 1.23")
    assert (p.epoch, p.total_epochs, p.step, p.total_steps) == (1.0, 3, 12, 100)
    assert p.metrics == {"loss": 0.1234, "lr": 5e-05, "grad_norm": 1.23}


@pytest.mark.parametrize("line", [
    "EPOCH 2/3, STEP 7/9, LOSS: 0.5, LR: 5.00E-05, GRAD_NORM: 2",
    "epoch 2/3 step 7/9 loss: 0.5 lr: 5.00e-05 grad_norm: 2",
    "Epoch [2/3], Step [7/9], Loss: 0.5000, Learning Rate: 5e-5, Gradient Norm: 2.0",
    "epoch: 2/3 | step: 7/9 | loss=0.5 | learning_rate=0.00005 | grad norm=2",
    "\x1b[1;32mEpoch 2/3\x1b[0m | \x1b[33mStep 7/9\x1b[0m | loss: 0.5 | lr: 5e-05 | grad_norm: 2",
])
def test_case_and_separators(line):
    p = parse_line(line)
    assert (p.epoch, p.total_epochs, p.step, p.total_steps) == (2.0, 3, 7, 9)
    assert p.metrics == {"loss": 0.5, "lr": 5e-05, "grad_norm": 2.0}


@pytest.mark.parametrize("line, field, value", [
    ("Cycle 2/5", "cycle", 2), ("CYCLE 2/5", "total_cycles", 5),
    ("Step 3 of 10", "total_steps", 10), ("step: 12", "step", 12), ("cycle=4", "cycle", 4),
    ("checkpoint saved: /Runs/My Model/checkpoint-40", "checkpoint", "/Runs/My Model/checkpoint-40"),
    ("Checkpoint Saved to ./out/ckpt-1", "checkpoint", "./out/ckpt-1"),
    ("Saving model checkpoint to out/checkpoint-8", "checkpoint", "out/checkpoint-8"),
])
def test_progress_and_checkpoint(line, field, value):
    assert getattr(parse_line(line), field) == value


def test_checkpoint_then_more_facts():
    p = parse_line("checkpoint saved: /data/run 1/ckpt-5 | Step 5/10 | loss: 0.25")
    assert (p.checkpoint, p.step, p.metrics) == ("/data/run 1/ckpt-5", 5, {"loss": 0.25})


@pytest.mark.parametrize("line, expected", [
    ("verification rate: 0.42", {"verification_rate": 0.42}),
    ("Verification Rate: 42%", {"verification_rate": 0.42}),
    ("tokens/s: 1234.5", {"tokens_per_s": 1234.5}),
    ("Tokens per second: 88", {"tokens_per_s": 88.0}),
    ("train_loss: 0.9 eval_loss: 1.1 val loss: 1.2", {"train_loss": 0.9, "eval_loss": 1.1, "val_loss": 1.2}),
    ("reward_mean: 0.3 reward_std: 0.1 mean_reward=0.2", {"reward_mean": 0.3, "reward_std": 0.1, "mean_reward": 0.2}),
    ("pass@1: 0.5 pass@10: 0.75", {"pass@1": 0.5, "pass@10": 0.75}),
    ("epoch: 1.5", {"epoch": 1.5}),
    ("loss: -0.25", {"loss": -0.25}),
    ("loss: .5", {"loss": 0.5}),
    ("loss: 3.", {"loss": 3.0}),
])
def test_named_values(line, expected):
    assert parse_line(line).metrics == expected


def test_epoch_progress_is_not_a_metric():
    p = parse_line("Epoch 2/3")
    assert (p.epoch, p.total_epochs, p.metrics) == (2.0, 3, {})
    assert parse_line("epoch: 1.5").epoch == 1.5


# ---- JSON metric lines --------------------------------------------------------------------------

def test_json_metric_line():
    p = parse_line('{"metric": {"step": 12, "loss": 0.5, "reward_mean": 0.3, "note": "x", '
                   '"nested": {"a": 1}, "flag": true, "bad": NaN, "ckpt": null}}')
    assert p.step == 12
    assert p.metrics == {"loss": 0.5, "reward_mean": 0.3}


def test_json_metric_progress_fields():
    p = parse_line('{"metrics": {"step": 3, "total_steps": 9, "cycle": 1, "total_cycles": 2, '
                   '"epoch": 0.5, "checkpoint": "/c/3", "Learning Rate": 1e-4}}')
    assert (p.step, p.total_steps, p.cycle, p.total_cycles, p.epoch, p.checkpoint) == \
        (3, 9, 1, 2, 0.5, "/c/3")
    assert p.metrics == {"epoch": 0.5, "lr": 1e-4}


def test_plain_json_object_of_numbers():
    p = parse_line('{"loss": 0.5, "step": 3, "accuracy": 0.9}')
    assert (p.step, p.metrics) == (3, {"loss": 0.5, "accuracy": 0.9})


@pytest.mark.parametrize("line", [
    '{"level": "info", "msg": "hello", "time": 1712345678.5}',  # a structured log record
    '{"metric": {"note": "no numbers"}}',
    '{"metric": {"loss": "abc", "lr": [1, 2]}}',
    '{}', '{"loss": 0.5', '{"loss": }', "{'loss': }", "{'loss': '1.0'",
])
def test_json_without_metrics(line):
    assert parse_line(line) is None


# ---- Hugging Face Trainer (transformers 5.24, TRL 1.16): real captured output ---------------------

def test_trainer_log_lines():
    parsed = parsed_lines("hf_trainer_5.24.log")
    assert values(parsed, "loss") == [4.114, 4.067, 4.029, 3.974, 3.943, 3.92, 3.901, 3.897]
    assert values(parsed, "lr")[:2] == [0.0004687, 0.0004063]
    assert values(parsed, "grad_norm")[0] == 1.483
    assert values(parsed, "eval_loss") == [3.949, 3.889]
    assert values(parsed, "train_loss") == [3.981]
    assert values(parsed, "train_samples_per_s") == [290.5]
    assert values(parsed, "epoch")[:4] == [0.25, 0.5, 0.75, 1.0]
    # every bar that reports a total is the 16-step training bar: never the nested 4-item
    # evaluation bar nor "Writing model shards 1/1"
    assert {p.total_steps for p in parsed if p.total_steps} == {16}
    steps = [p.step for p in parsed if p.step is not None]
    assert steps == sorted(steps) and steps[-1] == 16


def test_trl_sft_log_lines():
    parsed = parsed_lines("trl_sft_1.16.log")
    assert values(parsed, "loss") == [5.748, 5.744, 5.742, 5.741]
    assert values(parsed, "mean_token_accuracy") == [0.0, 0.001984, 0.004016, 0.001984]
    assert values(parsed, "num_tokens") == [510.0, 1024.0, 1536.0, 2048.0]
    assert values(parsed, "entropy") == [5.697] * 4
    # "Tokenizing train dataset ... 24/24 [... examples/s]" is data preparation, not steps
    assert {p.total_steps for p in parsed if p.total_steps} == {12}


@pytest.mark.parametrize("line", [
    # transformers 4.x printed bare floats
    "{'loss': 2.3456, 'grad_norm': 1.23, 'learning_rate': 4.5e-05, 'epoch': 0.5}",
    # transformers 5.x prints them through f"{v:.4g}"
    "{'loss': '2.346', 'grad_norm': '1.23', 'learning_rate': '4.5e-05', 'epoch': '0.5'}",
])
def test_trainer_dict_versions(line):
    p = parse_line(line)
    assert set(p.metrics) == {"loss", "grad_norm", "lr", "epoch"}
    assert p.epoch == 0.5 and p.metrics["lr"] == 4.5e-05


def test_trainer_dict_with_numpy_scalars():
    # compute_metrics returning numpy values: numpy 2 prints them as np.float64(...)
    p = parse_line("{'eval_loss': 0.5, 'eval_accuracy': np.float64(0.83), 'epoch': 1.0}")
    assert p.metrics == {"eval_loss": 0.5, "eval_accuracy": 0.83, "epoch": 1.0}


def test_trainer_dict_non_finite_and_text():
    p = parse_line("{'loss': nan, 'grad_norm': inf, 'learning_rate': '1e-05', 'epoch': 0.5, "
                   "'note': 'warm-up', 'flag': True, 'x': None}")
    assert p.metrics == {"lr": 1e-05, "epoch": 0.5}
    assert parse_line("{'name': 'gpt2', 'revision': 'main'}") is None


# ---- tqdm --------------------------------------------------------------------------------------

def test_tqdm_bar():
    p = parse_line("  45%|████▌     | 45/100 [00:12<00:15,  3.60it/s]")
    assert (p.step, p.total_steps) == (45, 100)


def test_tqdm_carriage_returns_last_update_wins():
    line = "".join(f"\r{i:3d}%|{'#' * (i // 10):<10}| {i}/100 [00:0{i % 10}<00:10, 3.6it/s]"
                   for i in range(0, 60, 7))
    assert parse_line(line).step == 56


def test_tqdm_postfix_and_slow_rate():
    p = parse_line(" 10%|█         | 10/100 [01:40<15:00, 10.00s/it, loss=0.731, lr=2e-5]")
    assert (p.step, p.total_steps, p.metrics) == (10, 100, {"loss": 0.731, "lr": 2e-05})


@pytest.mark.parametrize("line", [
    "Map: 100%|██████████| 1000/1000 [00:00<00:00, 5000.00 examples/s]",
    "Loading checkpoint shards: 100%|██████████| 2/2 [00:01<00:00,  1.50it/s]",
    "\r 50%|█████     | 2/4 [00:00<00:00, 730.33it/s]\x1b[A",  # nested evaluation bar
    "model.safetensors: 100%|██████████| 1.2G/1.2G [00:10<00:00, 120MB/s]",
])
def test_tqdm_bars_that_are_not_training(line):
    assert parse_line(line) is None


def test_huge_carriage_return_line_keeps_the_tail():
    line = "".join(f"\r{i * 100 // 9999:3d}%|#         | {i}/9999 [00:01<00:01, 3.6it/s]"
                   for i in range(10000))
    assert len(line) > metrics.MAX_LINE
    assert parse_line(line).step == 9999


# ---- garbage --------------------------------------------------------------------------------

@pytest.mark.parametrize("line", [
    "", "   ", "\r\r\r", "\x00\x01\x02\xff", "\x1b[31m\x1b[0m", "loss: abc", "loss: nan", "loss: -inf",
    "loss: 1e999", "loss: 0.5.3", "lr: 1e", "loss: 12abc", "loss:", "Step /10", "Step 5/",
    "Step 99999999999999999999999/3", "Epoch 2024/01/05", "step 5 failed", "timestep 5/10",
    "size: 1234", "INFO 2025-06-01 12:00:00 loading weights from /models/x", "{", "}", "{{}}",
    "loss: " + "1" * 20000 + "x", "{'loss': " + "'" * 5000, "Ünïcödé İ loss: x",
])
def test_garbage_gives_none(line):
    assert parse_line(line) is None


def test_bytes_and_odd_input_never_raise():
    assert parse_line(b"loss: 0.5").metrics == {"loss": 0.5}
    assert parse_line(b"\xff\xfe loss: 0.5 \x80").metrics == {"loss": 0.5}
    assert parse_line(None) is None  # type: ignore[arg-type]


def _fragments() -> list[str]:
    pieces = []
    for name in ("hf_trainer_5.24.log", "trl_sft_1.16.log", "halo_sft.log"):
        for line in physical_lines(name):
            pieces += line.split(" ")
    return pieces + ["\r", "\x1b[A", "\x00", "nan", "inf", "1e400", "-", ":", "{", "}", "'", '"',
                     "%|", "|", "/", "Step", "loss:", "lr=", "\udcff", "🙂"]


def test_fuzzed_lines_never_raise_and_stay_finite():
    """The inner parser (not the never-raise wrapper) on 3000 lines stitched from real output."""
    rng = random.Random(7)
    pieces = _fragments()
    for _ in range(3000):
        line = rng.choice([" ", "", ", ", " | ", "\r"]).join(
            rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        p = metrics._parse(line)
        if p is None:
            continue
        assert all(isinstance(v, float) and math.isfinite(v) for v in p.metrics.values())
        for field in ("step", "total_steps", "total_epochs", "cycle", "total_cycles"):
            v = getattr(p, field)
            assert v is None or (isinstance(v, int) and 0 <= v < 2**63)
        assert p.epoch is None or math.isfinite(p.epoch)


# ---- names -------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, name", [
    ("learning_rate", "lr"), ("Learning Rate", "lr"), ("gradient_norm", "grad_norm"),
    ("tokens/s", "tokens_per_s"), ("tok/s", "tokens_per_s"), ("samples/sec", "samples_per_s"),
    ("train_samples_per_second", "train_samples_per_s"), ("Train Loss", "train_loss"),
    ("rewards/accuracy_reward/mean", "rewards_accuracy_reward_mean"), ("pass@1", "pass@1"),
    ("train_loss", "train_loss"), ("loss", "loss"),
])
def test_canonical_names(raw, name):
    assert canonical_name(raw) == name


def test_parsed_is_plain_data():
    p = parse_line("Step 1/2 loss: 0.5")
    assert json.loads(json.dumps({"m": p.metrics, "s": p.step})) == {"m": {"loss": 0.5}, "s": 1}


@pytest.mark.parametrize("line, expected", [
    # the exact lines core/training/raft.py prints while a cycle samples and verifies
    ("sampled 3/16 prompts (24/128 samples)", {"prompts_sampled": 3.0}),
    ("verified 100/128 samples", {"samples_verified": 100.0}),
    ("Verified 7/8 Samples", {"samples_verified": 7.0}),
])
def test_raft_sampling_progress(line, expected):
    p = parse_line(line)
    assert p.metrics == expected and p.step is None and p.cycle is None


def test_raft_sampling_lines_from_the_runner(capsys):
    from core.training import raft

    raft.report = raft.Throttle(every_s=3600)  # only the first and the final line print
    try:
        for n in (1, 2, 3):
            raft.report(f"verified {n}/3 samples", final=n == 3)
    finally:
        raft.report = raft.Throttle()
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["verified 1/3 samples", "verified 3/3 samples"]
    assert [parse_line(x).metrics["samples_verified"] for x in lines] == [1.0, 3.0]


def test_metric_line_round_trips_through_the_parser():
    """The one writer and the one reader of the JSON metric line agree."""
    from core.metrics import metric_line

    line = metric_line(7, loss=0.123456789, reward_mean=0.5, kept=12, skipped=None)
    parsed = parse_line(line)
    assert parsed.step == 7
    assert parsed.metrics == {"loss": 0.123457, "reward_mean": 0.5, "kept": 12.0}
    assert "skipped" not in line
    no_step = parse_line(metric_line(None, pass_rate=0.25))
    assert no_step.step is None and no_step.metrics == {"pass_rate": 0.25}
