"""Benchmarks: benchmark run (one benchmark, a comma-separated list or a named suite)."""
from __future__ import annotations

from core import jobs
from core.cli.common import add_job_options, positive_int, fail, load_job_config, maybe_wait, profile_overrides

def cmd_benchmark(args) -> int:
    from core import configs
    from core.benchmarks import catalogue

    if args.config:
        cfg = load_job_config(args.config, list(args.set or []), "benchmark")
    else:
        if not args.model or not args.benchmark:
            fail("benchmark run needs --model and --benchmark (or --config FILE)")
        data = {"kind": "benchmark", "model": {"name": args.model},
                "benchmark": {"name": args.benchmark}}
        bench = data["benchmark"]
        try:  # the type's budget, as the Benchmark page fills it in; --set still wins
            bench["max_new_tokens"] = catalogue.default_max_new_tokens(args.benchmark)
        except ValueError:
            pass  # parse_config below names the unknown benchmark
        if args.limit is not None:
            bench["limit"] = args.limit
        if args.samples is not None:
            bench["samples"] = args.samples
        if args.temperature is not None:
            bench["temperature"] = args.temperature
        if args.adapter:
            data["model"]["adapter"] = args.adapter
        if args.out:
            data["output_dir"] = args.out
        overrides = list(args.set or [])
        if args.profile:
            overrides += profile_overrides(args.profile)
        cfg = configs.parse_config(data, overrides=overrides)
    from core.benchmarks import service

    try:  # a hub model that cannot load here fails now, not after the job's retries
        service.check_model(cfg.model.name, cfg.executor.name)
    except ValueError as exc:
        fail(str(exc))
    job_id = jobs.submit("benchmark", cfg.model_dump(mode="json"), name=args.name,
                         priority=args.priority)
    print(job_id)
    return maybe_wait(job_id, args)


def register(sub) -> None:
    s = sub.add_parser("benchmark", help="benchmarks")
    s.add_argument("action", choices=("run",))
    s.add_argument("--model")
    s.add_argument("--adapter", help="LoRA adapter to apply to the model")
    s.add_argument("--benchmark", help="a benchmark, several separated by commas "
                   "(humaneval,mbpp) or a suite (code-suite, vlm-suite, audio-suite)")
    s.add_argument("--limit", type=positive_int)
    s.add_argument("--samples", type=positive_int, help="samples per problem (n)")
    s.add_argument("--temperature", type=float)
    s.add_argument("--out", help="output directory")
    s.add_argument("--config", help="a benchmark config file instead of the flags")
    s.add_argument("--set", action="append", metavar="KEY=VALUE")
    s.add_argument("--profile", help="cluster profile to run it on")
    add_job_options(s)
    s.set_defaults(fn=cmd_benchmark)
