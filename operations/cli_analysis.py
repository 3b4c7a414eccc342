"""`afterglow analyse`, `learn` and `reanalyse`: the analyser from the command line, the learned model, re-tagging."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import sys
from datetime import datetime
from typing import Any, TextIO

import click

from operations.cli_common import console, parse_now, progress_bar


def register(main: click.Group) -> None:
    for command in (analyse, learn, reanalyse):
        main.add_command(command)


@click.command()
@click.argument("source", type=click.File("r", encoding="utf-8"))
def analyse(source: TextIO) -> None:
    """Tag comments from JSON lines ({"text", "score"?, "scale"?, "language"?}; FILE or - for stdin), one JSON line
    out per line in; bad lines are named on stderr (exit code 1) and the rest still run."""
    from feedback.analysis import analyse as analyse_text
    from feedback.analysis import as_json

    model = _stored_model()
    _stored_topics()
    bad = 0
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            text, options = _analysis_input(line)
            result = analyse_text(text, **options, model=model)
        except ValueError as exc:
            bad += 1
            console.print(f"[red]line {number}[/red]: {exc}", markup=True, highlight=False)
            continue
        click.echo(json.dumps(as_json(result), ensure_ascii=False))
    if bad:
        sys.exit(1)


def _analysis_input(line: str) -> tuple[str, dict[str, Any]]:
    """One JSON line as `analyse` arguments; ValueError (json's included) says what is wrong."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc})") from exc
    if not isinstance(item, dict):
        raise ValueError("expected a JSON object")
    text = item.get("text")
    if not isinstance(text, str):
        raise ValueError('"text" must be a string')
    score, scale, language = item.get("score"), item.get("scale"), item.get("language")
    if score is not None and (isinstance(score, bool) or not isinstance(score, int)):
        raise ValueError('"score" must be a whole number')
    if scale is not None and not (
        isinstance(scale, list)
        and len(scale) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) for n in scale)
    ):
        raise ValueError('"scale" must be two whole numbers, e.g. [0, 10]')
    if language is not None and not isinstance(language, str):
        raise ValueError('"language" must be a string')
    return text, {"score": score, "scale": tuple(scale) if scale else None, "language": language or None}


def _stored_model() -> Any:
    """The learned model `afterglow learn` stored, or None: the lexicon decides (also with no database yet)."""
    from feedback.services.learning import active_model

    try:
        return asyncio.run(active_model())
    except Exception as exc:  # no database, or not migrated: analysing text needs neither
        console.print(f"[yellow]no learned model[/yellow] ({type(exc).__name__}): the lexicon decides", highlight=False)
        return None


def _stored_topics() -> None:
    """Tag with the topics saved on the admin's topics page, if any; else the file's or the defaults."""
    from feedback.services.topic_settings import current_topics

    try:
        asyncio.run(current_topics())
    except Exception as exc:  # no database, or not migrated: the environment's topics decide
        console.print(f"[yellow]no stored topics[/yellow] ({type(exc).__name__})", highlight=False)


@click.command()
@click.argument("source", type=click.File("r", encoding="utf-8"), required=False)
@click.option("--forget", is_flag=True, help="Stop using the learned model: the lexicon decides again.")
@click.option("--now", "now_text", default=None, help="Record the model as of this ISO-8601 moment (default: now).")
def learn(source: TextIO | None, forget: bool, now_text: str | None) -> None:
    """Learn the shop's sentiment model from scored texts (JSON lines {"text", "score", "scale"?, "language"?};
    FILE or - for stdin; scale defaults to [1, 5], NPS is [0, 10]) together with what the database holds, store it,
    and print one JSON line: n, and the held-out balanced accuracy of the lexicon and of the model. `analyse` and
    intake use it from then on, when it is at least as good as the lexicon. `--forget` goes back to the lexicon."""
    from feedback.services import learning

    if forget:
        click.echo(json.dumps({"forgotten": asyncio.run(learning.forget())}))
        return
    if source is None:
        raise click.UsageError("give a FILE of JSON lines, - for standard input, or --forget")
    examples, bad = [], 0
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            examples.append(_learning_example(line))
        except ValueError as exc:
            bad += 1
            console.print(f"[red]line {number}[/red]: {exc}", markup=True, highlight=False)
    try:
        learned = asyncio.run(learning.learn(examples, parse_now(now_text), by_hand=True))
    except learning.NothingToLearn as exc:
        raise click.ClickException(f"nothing to learn from: {exc}") from exc
    click.echo(json.dumps({**learned.as_dict(), "skipped_lines": bad}))


def _learning_example(line: str) -> Any:
    """One JSON line as a labelled example: its score on its scale gives the label."""
    from feedback.analysis.label import normalise_score
    from feedback.analysis.language import detect_language, normalise_language
    from feedback.analysis.learned import Example
    from feedback.services.learning import label_from_score

    text, options = _analysis_input(line)
    score, scale = options["score"], options["scale"] or (1, 5)
    if score is None:
        raise ValueError('"score" is needed to learn from a text')
    normalise_score(score, scale)  # the score must lie on its scale
    if not text.strip():
        raise ValueError('"text" is empty')
    language = normalise_language(options["language"]) if options["language"] else detect_language(text)
    return Example(text.strip(), label_from_score(score, scale), language)


#: Feedback items per part handed to a worker process (a part is re-tagged in batches of `intake_batch.BATCH`).
PART_SIZE = 2000


@click.command()
@click.option("--now", "now_text", default=None, help="Record the tags as of this ISO-8601 moment (default: now).")
@click.option("--workers", default=2, show_default=True, help="Worker processes that share the work.")
@click.option("--part-size", default=PART_SIZE, show_default=True, help="Feedback items per part handed out.")
def reanalyse(now_text: str | None, workers: int, part_size: int) -> None:
    """Re-tag all feedback after a change to the analyser or the topic keywords, and route it again; labels and
    topics corrected by people stay. The items are handed out in parts of consecutive ids to `--workers` processes
    (one part or one worker: this process does it all). A progress bar on stderr, one JSON summary line on
    stdout."""
    from feedback.analysis import analyse as analyse_text
    from feedback.services.intake import id_ranges

    if workers < 1 or part_size < 1:
        raise click.UsageError("--workers and --part-size must be at least 1")
    now = parse_now(now_text)
    parts = asyncio.run(id_ranges(part_size))
    summary = {"reanalysed": 0, "labels_changed": 0, "sources_gone": 0}
    analyse_text("Load the lexicons once, before the workers start.")
    if workers == 1 or len(parts) < 2:
        from feedback.services.intake import reanalyse as reanalyse_all

        with progress_bar() as progress:
            task = progress.add_task("Re-analysing", total=None)
            summary = asyncio.run(
                reanalyse_all(now, on_progress=lambda done, total: progress.update(task, completed=done, total=total))
            )
    else:
        # The processes start before the bar (whose thread would be copied half-way into them).
        with worker_pool(min(workers, len(parts))) as pool, progress_bar() as progress:
            task = progress.add_task("Re-analysing", total=sum(items for _, _, items in parts))
            for done in pool.imap_unordered(
                reanalyse_part, [(first, last, now.isoformat()) for first, last, _ in parts]
            ):
                progress.advance(task, done.pop("items"))
                for key in summary:
                    summary[key] += done[key]
    click.echo(json.dumps(summary))


def worker_pool(workers: int) -> Any:
    """Worker processes forked from this one where the system can (they start with the analyser's lexicons loaded
    instead of importing them again); no event loop or connection is open here when they start."""
    from afterglow.celery_app import forget_loop

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method).Pool(workers, initializer=forget_loop)


def reanalyse_part(part: tuple[int, int, str]) -> dict[str, int]:
    """One part, in a worker process: its event loop (and PostgreSQL pool) kept from part to part."""
    from afterglow.celery_app import run_async
    from feedback.services.intake import reanalyse_range

    first, last, now_iso = part
    return run_async(reanalyse_range(first, last, datetime.fromisoformat(now_iso)))
