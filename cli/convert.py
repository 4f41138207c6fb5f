"""thinkpipe convert: copy records between JSONL, JSONL.gz and Parquet; select, slice and shard."""
from __future__ import annotations

import logging
import time
from typing import Annotated, Optional

import typer

from .options import (Config, EmbedMedia, Format, Inputs, Limit, MediaDir, OnError, Output, Seed,
                      ProgressEvery, Quiet, Shard, Verbose)
from .runner import guard, records, usage_errors

log = logging.getLogger("thinkpipe.convert")

EXAMPLES = """\
thinkpipe convert data.jsonl -o data.parquet
thinkpipe convert data.parquet | head -3
cat data.jsonl.gz | thinkpipe convert --select id,question,answer --limit 100
thinkpipe convert scored_rollouts.jsonl --balance score:10:5000 -o trm_data.jsonl
thinkpipe convert big.jsonl --shard 2/8 -o part-2.jsonl
thinkpipe convert held.jsonl --set split=held-out -o held-tagged.jsonl
thinkpipe convert scenes.jsonl --embed-media -o scenes.parquet
thinkpipe convert scenes.parquet --media-dir media/ -o scenes.jsonl
"""


def convert(
    inputs: Inputs = None,
    output: Output = None,
    fmt: Format = None,
    select: Annotated[Optional[str], typer.Option(
        "--select", metavar="A,B,...", rich_help_panel="Input and output",
        help="Keep only these fields, in this order; meta.x picks x inside meta (nested as it "
             "was). A field no record has is warned about.")] = None,
    balance: Annotated[Optional[str], typer.Option(
        "--balance", metavar="FIELD:BINS:N", rich_help_panel="Input and output",
        help="Keep at most N records per each of BINS equal bins of FIELD over [0, 1], drawn "
             "uniformly (seeded by --seed), in input order: e.g. score:10:5000 (SophiaVL-R1's "
             "thinking-reward data).")] = None,
    assignments: Annotated[Optional[list[str]], typer.Option(
        "--set", metavar="FIELD=VALUE", rich_help_panel="Input and output",
        help="Set FIELD to VALUE in every record (repeatable; VALUE is JSON when it parses, "
             "else a string): tag a split or a source before records are mixed.")] = None,
    seed: Seed = 0,
    limit: Limit = None,
    shard: Shard = None,
    on_error: OnError = "fail",
    embed_media: EmbedMedia = False,
    media_dir: MediaDir = None,
    quiet: Quiet = False,
    verbose: Verbose = 0,
    progress_every: ProgressEvery = 30.0,
    config: Config = None,
) -> None:
    """Copy records from files or stdin to stdout or a file, converting JSONL <-> Parquet.

    Every field and value survives a JSONL -> Parquet -> JSONL round trip, including fields only
    some records have, mixed types and media bytes. JSONL records that are not changed (no
    --select or media option) are copied byte for byte after validation (long integers and
    formatting stay as they were); records read from Parquet or changed are written as compact
    JSON.
    """
    with guard("convert", verbose, quiet, progress_every):
        from thinkpipe.core.errors import UsageError
        from thinkpipe.core.progress import current
        from thinkpipe.core.records import RecordWriter, media, parse_fields
        from thinkpipe.core.records.stream import assign, parse_assignments
        from thinkpipe.core.records.stream import balance as balance_bins
        from thinkpipe.core.records.stream import select as select_fields

        if embed_media and media_dir:
            raise UsageError("--embed-media and --media-dir pull opposite ways; pick one")
        start = time.perf_counter()
        with usage_errors():
            fields, found = parse_fields(select), set()
            bal = _balance_spec(balance)
            values = parse_assignments(assignments or [])
        transform = embed_media or media_dir or fields or bal or values
        with records(inputs, on_error, shard, limit) as stream, \
                RecordWriter(output, fmt.value if fmt else None) as out:
            if out.takes_reader and not (transform or shard or limit is not None):
                progress = current()              # whole inputs: JSONL in blocks through Arrow
                progress.begin("records")         # into Parquet, Parquet rows encoded by column
                out.write_from(stream.reader, progress.advance)
            elif out.takes_lines and not transform:
                out.write_lines(stream.lines())   # JSONL out, nothing to change: copied as read
            else:
                recs = select_fields(stream.records, fields, found) if fields else stream.records
                recs = assign(recs, values) if values else recs
                if bal:
                    dropped: list = []
                    recs = balance_bins(recs, *bal, seed=seed, dropped=dropped)
                    if dropped[0]:
                        log.warning("--balance: %d record(s) without a %s in [0, 1] left out",
                                    dropped[0], bal[0])
                if embed_media or media_dir:
                    fn = media.embed if embed_media else media.writer_to_dir(media_dir)
                    recs = media.map_records(recs, fn, stream.policy, lambda: stream.where)
                out.write_many(recs)
        if fields and out.count and (missing := [f for f in fields if f not in found]):
            log.warning("--select: no record has %s", ", ".join(missing))
        log.info("%d records -> %s (%s) in %.2f s", out.count, output or "stdout", out.format,
                 time.perf_counter() - start)


def _balance_spec(spec: str | None) -> tuple[str, int, int] | None:
    if not spec:
        return None
    field, _, rest = spec.partition(":")
    try:
        bins, per_bin = (int(x) for x in rest.split(":"))
    except ValueError:
        raise ValueError(f"--balance {spec!r}: FIELD:BINS:N, e.g. score:10:5000") from None
    if not field or bins < 1 or per_bin < 1:
        raise ValueError(f"--balance {spec!r}: FIELD:BINS:N with BINS and N at least 1")
    return field, bins, per_bin
