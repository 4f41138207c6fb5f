"""Record streams: JSONL, gzipped JSONL and Parquet, from files or stdin, to files or stdout.

    from thinkpipe.core.records import read_records, RecordWriter
    reader = read_records(["in.jsonl"], on_error="skip")
    with RecordWriter("out.parquet") as out:
        for record in reader:
            out.write(record)

Records are plain dicts. Fields a tool does not own pass through unchanged; a JSONL -> Parquet ->
JSONL round trip gives back every field and value (see parquet.py for how).
"""
from ..errors import InputError, OutputError, RecordError, UsageError
from .policy import ErrorPolicy
from .reader import RecordReader, read_records, sniff
from .stream import apply, limit, parse_fields, parse_shard, select, shard
from .writer import FORMATS, RecordWriter, resolve_format

__all__ = [
    "ErrorPolicy", "InputError", "OutputError", "RecordError", "UsageError", "RecordReader", "read_records",
    "sniff", "apply", "limit", "parse_fields", "parse_shard", "select", "shard", "FORMATS",
    "RecordWriter", "resolve_format",
]
