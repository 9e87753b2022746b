"""A benchmark run: prompts for every (task, library), answers from the model, execution on the
grid, self-debug rounds for what failed, optional judge scores, then attempts, summary and report.

Each round is recorded as it goes (answers one by one, executions chunk by chunk, judge replies
in the cache), so rerunning the same command neither asks the model again nor re-executes what
is done.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from viscode.bench.execute import NO_IMAGE, Job, Outcome, execute
from viscode.bench.extract import extract_code
from viscode.bench.generate import EndpointGenerator, Generation, LocalGenerator
from viscode.bench.judge import Judge, Verdict, precheck
from viscode.bench.prompts import (
    LIBRARIES,
    DataError,
    describe_data,
    request_messages,
    task_judge_messages,
    visual_judge_messages,
)
from viscode.bench.report import write_report
from viscode.bench.scores import summarize
from viscode.bench.tasks import Task, load_tasks
from viscode.grid.cluster import connect
from viscode.grid.executor import SandboxSettings

from viscode.cache import cache_root
from viscode.errors import InputError
from viscode.llm import ClientConfig, ResponseCache
from viscode.progress import Progress
from viscode.selfdebug import code_block, feedback_message
from viscode.shards import check, claim, lock_folder, write_bytes, write_json

SCHEMA_VERSION = 1
OWNED = ("work", "images", "attempts.jsonl", "summary.json", "report.md", "contact-sheet.png")



@dataclass(frozen=True, slots=True)
class JudgeSettings:
    endpoint: str
    model: str
    price_in: float | None = None  # USD per million prompt tokens, for the cost line
    price_out: float | None = None


@dataclass(frozen=True, slots=True)
class BenchConfig:
    output: Path
    model: str  # a model folder or hub name, or the endpoint's model name
    endpoint: str | None = None
    tasks: str | None = None  # default: the 99 tasks the project ships
    libraries: tuple[str, ...] = LIBRARIES
    self_debug: int = 3
    limit: int | None = None
    max_new_tokens: int = 3000
    batch_size: int = 8
    concurrency: int = 8
    request_timeout_s: float = 600.0
    max_retries: int = 4  # per request, after the first try
    requests_per_minute: float = 60_000.0  # per endpoint; lower it for a rate-limited hosted API
    timeout_s: float = 10.0  # per attempt, the benchmark's
    memory_mb: int = 1024
    judge: JudgeSettings | None = None
    workers: int | None = None
    scheduler: str | None = None
    force: bool = False
    api_key: str | None = field(default=None, repr=False)


def check_libraries(names: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [n for n in names if n not in LIBRARIES]
    if unknown or not names:
        raise InputError(f"unknown librar{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown) or '(none)'}; "
                         f"choose from {', '.join(LIBRARIES)}")
    if len(set(names)) != len(names):
        raise InputError(f"a library is named twice in {','.join(names)}")
    return names


def attempt_key(task_id: str, library: str, round_: int) -> str:
    return f"{task_id}-{library}-r{round_}"


def _file_name(key: str) -> str:
    return re.sub(r"[^\w.-]", "_", key)


class RunFolder:
    """Where a run keeps its work: answers per round (JSONL, appended one by one), the grid job
    per round, images; and its products (attempts, summary, report)."""

    def __init__(self, root: Path):
        self.root = root
        self.work = root / "work"
        self.images = root / "images"

    def generations(self, round_: int) -> dict[str, Generation]:
        path = self.work / f"generations-r{round_}.jsonl"
        found = {}
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                    key = entry.pop("key")
                    found[key] = Generation(**entry)
                except (ValueError, TypeError, KeyError):
                    continue  # a line torn by a crash: that answer is asked again
        return found

    @contextmanager
    def recorder(self, round_: int) -> Iterator[Callable[[str, Generation], None]]:
        self.work.mkdir(parents=True, exist_ok=True)
        with open(self.work / f"generations-r{round_}.jsonl", "a", encoding="utf-8") as log:
            def record(key: str, generation: Generation) -> None:
                log.write(json.dumps({"key": key, **asdict(generation)}, ensure_ascii=False) + "\n")
                log.flush()
            yield record

    def save_images(self, key: str, images: list[bytes]) -> list[str]:
        names = []
        for n, png in enumerate(images):
            name = f"images/{_file_name(key)}-{n}.png"
            if not (self.root / name).exists():
                write_bytes(png, self.root / name)
            names.append(name)
        return names


def _conversation(base: list[dict], history: list[dict]) -> list[dict]:
    """VisCoder's self-debug turns, growing by one attempt per round (the original repeated
    earlier attempts from its third round on)."""
    turns = list(base)
    for n, attempt in enumerate(history):
        turns += [{"role": "assistant", "content": code_block(attempt["code"])},
                  {"role": "user", "content": feedback_message(attempt["error"], again=n > 0)}]
    return turns


def _identity(cfg: BenchConfig, tasks_digest: str, libraries: tuple[str, ...]) -> dict:
    """What makes two runs the same run (the judge is not part of it: scores are added later)."""
    model = cfg.model
    if cfg.endpoint is None and Path(cfg.model).is_dir():
        model = str(Path(cfg.model).absolute())
    return {"schema_version": SCHEMA_VERSION, "model": model, "backend": "endpoint" if cfg.endpoint else "local",
            "tasks_digest": tasks_digest, "libraries": list(libraries), "self_debug": cfg.self_debug,
            "limit": cfg.limit, "max_new_tokens": cfg.max_new_tokens, "timeout_s": cfg.timeout_s,
            "memory_mb": cfg.memory_mb}


def _generator(cfg: BenchConfig):
    if cfg.endpoint:
        config = ClientConfig(cfg.endpoint, cfg.model, api_key=cfg.api_key, timeout_s=cfg.request_timeout_s,
                              max_retries=cfg.max_retries, requests_per_minute=cfg.requests_per_minute,
                              concurrency=cfg.concurrency, max_tokens=cfg.max_new_tokens)
        return EndpointGenerator(config, cfg.max_new_tokens)
    return LocalGenerator(cfg.model, max_new_tokens=cfg.max_new_tokens, batch_size=cfg.batch_size)


def _judge(cfg: BenchConfig) -> Judge | None:
    if cfg.judge is None:
        return None
    config = ClientConfig(cfg.judge.endpoint, cfg.judge.model, api_key=cfg.api_key, timeout_s=cfg.request_timeout_s,
                          max_retries=cfg.max_retries, requests_per_minute=cfg.requests_per_minute,
                          concurrency=cfg.concurrency)
    return Judge(config, ResponseCache(cache_root() / "judge"))


def run_bench(cfg: BenchConfig, on_progress: Progress | None = None) -> dict:
    """Run (or resume) the benchmark into `cfg.output`; returns the summary. InputError for bad
    input before any work; EndpointError / ClusterUnavailable when a service is unavailable."""
    started = time.monotonic()
    report = on_progress or (lambda step, done, total: None)
    libraries = check_libraries(tuple(cfg.libraries))
    if cfg.self_debug < 0:
        raise InputError(f"--self-debug must be 0 or more, got {cfg.self_debug}")
    taskset = load_tasks(cfg.tasks, cfg.limit)
    descriptions, skipped = {}, {}
    for task in taskset.tasks:
        try:
            descriptions[task.id] = describe_data(task.data_csv)
        except DataError as exc:
            skipped[task.id] = str(exc)
    output = Path(cfg.output).absolute()
    identity = _identity(cfg, taskset.digest, libraries)
    check(output, identity, force=cfg.force, what="benchmark run")  # every refusal before anything starts
    generator = _generator(cfg)
    judge = _judge(cfg)
    generator.check()
    if judge:
        judge.check()
    tasks = [t for t in taskset.tasks if t.id not in skipped]
    settings = SandboxSettings(timeout_s=cfg.timeout_s, memory_mb=cfg.memory_mb)
    with connect(cfg.scheduler, cfg.workers) as client:
        lock = lock_folder(output)
        try:
            claim(output, identity, force=cfg.force, what="benchmark run", owned=OWNED)
            folder = RunFolder(output)
            attempts = _rounds(cfg, folder, tasks, descriptions, libraries, generator, settings, client, report)
            if judge:
                _score(judge, attempts, {t.id: t for t in tasks}, folder, report)
            summary = _summary(cfg, taskset, skipped, libraries, attempts, generator, judge,
                               time.monotonic() - started)
            lines = "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in attempts)
            write_bytes(lines.encode("utf-8"), output / "attempts.jsonl")
            write_json(summary, output / "summary.json")
            write_report(output, summary, attempts)
            return summary
        finally:
            lock.close()


def _rounds(cfg: BenchConfig, folder: RunFolder, tasks: list[Task], descriptions: dict[str, str],
            libraries: tuple[str, ...], generator, settings: SandboxSettings, client, report: Progress) -> list[dict]:
    history: dict[tuple[str, str], list[dict]] = {(t.id, lib): [] for t in tasks for lib in libraries}
    by_id = {t.id: t for t in tasks}
    attempts = []
    for round_ in range(cfg.self_debug + 1):
        items = [item for item, done in history.items() if not any(a["passed"] for a in done)]
        if not items:
            break
        requests = {}
        for task_id, library in items:
            task = by_id[task_id]
            base = request_messages(task.plot_description, task.plot_style, library, descriptions[task_id])
            requests[attempt_key(task_id, library, round_)] = _conversation(base, history[task_id, library])
        answers = folder.generations(round_)
        todo = [(key, messages) for key, messages in requests.items() if key not in answers]
        what = f"round {round_}: answers"
        report(what, len(requests) - len(todo), len(requests))
        with folder.recorder(round_) as record:
            for key, generation in generator.generate(todo):
                record(key, generation)
                answers[key] = generation
                report(what, len(answers), len(requests))
        codes = {key: extract_code(answers[key].text) for key in requests}
        jobs = [Job(key, codes[key], by_id[task_id].code_data, by_id[task_id].data_csv.encode("utf-8"))
                for (task_id, library), key in zip(items, requests) if answers[key].error is None]
        outcomes = {}
        if jobs:
            what = f"round {round_}: executions"
            outcomes = execute(jobs, folder.work / f"exec-r{round_}", settings=settings, client=client,
                               on_update=lambda state, w=what: report(w, state.rows_done, state.rows_total))
        for (task_id, library), (key, messages) in zip(items, requests.items()):
            generation = answers[key]
            outcome = outcomes.get(key) or Outcome("not_run", "NoAnswer", NO_IMAGE, [], 0.0)
            attempt = {
                "task_id": task_id, "library": library, "round": round_, "messages": messages,
                "response": generation.text, "generation_error": generation.error, "code": codes[key],
                "status": outcome.status, "error_type": outcome.error_type, "error": outcome.error,
                "passed": outcome.passed, "images": len(outcome.images),
                "image_files": folder.save_images(key, outcome.images), "duration_s": round(outcome.duration_s, 3),
                "generation_s": round(generation.seconds, 3), "prompt_tokens": generation.prompt_tokens,
                "completion_tokens": generation.completion_tokens,
                "task_score": None, "visual_score": None, "task_judge": None, "visual_judge": None,
            }
            history[task_id, library].append(attempt)
            attempts.append(attempt)
    return attempts


def _score(judge: Judge, attempts: list[dict], tasks: dict[str, Task], folder: RunFolder, report: Progress) -> None:
    """Task score for every attempt, visual score where the task has a ground-truth image."""
    requests = []
    for n, attempt in enumerate(attempts):
        task = tasks[attempt["task_id"]]
        kinds = ["task"] + (["visual"] if task.plot_gt else [])
        verdict = precheck(attempt["passed"], attempt["library"], attempt["code"])
        if verdict is not None:
            for kind in kinds:
                _set_verdict(attempt, kind, verdict)
            continue
        images = [(folder.root / name).read_bytes() for name in attempt["image_files"]]
        requests.append((f"{n}:task", task_judge_messages(task.plot_description, task.plot_style, images)))
        if task.plot_gt:
            requests.append((f"{n}:visual", visual_judge_messages(images[0], task.plot_gt)))
    report("judge", 0, len(requests))
    for key, verdict in judge.score_all(requests, on_done=lambda done: report("judge", done, len(requests))):
        n, kind = key.split(":")
        _set_verdict(attempts[int(n)], kind, verdict)


def _set_verdict(attempt: dict, kind: str, verdict: Verdict) -> None:
    attempt[f"{kind}_score"] = verdict.score
    attempt[f"{kind}_judge"] = verdict.outcome


def _summary(cfg: BenchConfig, taskset, skipped: dict[str, str], libraries: tuple[str, ...], attempts: list[dict],
             generator, judge: Judge | None, wall_s: float) -> dict:
    summary = {
        "model": generator.name,
        "tasks": {"source": taskset.source, "digest": taskset.digest, "count": len(taskset.tasks) - len(skipped),
                  "skipped": skipped},
        "settings": {"backend": "endpoint" if cfg.endpoint else "local", "libraries": list(libraries),
                     "self_debug": cfg.self_debug, "limit": cfg.limit, "max_new_tokens": cfg.max_new_tokens,
                     "timeout_s": cfg.timeout_s, "memory_mb": cfg.memory_mb, "tasks_digest": taskset.digest,
                     "judge_model": cfg.judge.model if cfg.judge else None},
        **summarize(attempts, list(libraries), cfg.self_debug + 1),
        "generation": {"answers": len(attempts), "failed": sum(a["generation_error"] is not None for a in attempts),
                       "prompt_tokens": sum(a["prompt_tokens"] for a in attempts),
                       "completion_tokens": sum(a["completion_tokens"] for a in attempts),
                       "seconds": round(sum(a["generation_s"] for a in attempts), 3)},
        "judge": None,
        "attempts": len(attempts),
        "wall_s": round(wall_s, 3),
    }
    if judge is not None:
        stats = judge.client.stats
        cost = None
        if cfg.judge.price_in is not None and cfg.judge.price_out is not None:
            cost = round((stats.prompt_tokens * cfg.judge.price_in + stats.completion_tokens * cfg.judge.price_out)
                         / 1e6, 4)
        summary["judge"] = {"model": cfg.judge.model, "requests": stats.requests, "retries": stats.retries,
                            "cache_hits": judge.cache_hits, "prompt_tokens": stats.prompt_tokens,
                            "completion_tokens": stats.completion_tokens, "cost_usd": cost,
                            "failures": dict(stats.failures)}
    return summary
