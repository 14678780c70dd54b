"""The raw input folders as observable sources: their data version is the hash of their files."""

import warnings

import dagster as dg

from llm_pipeline.defs.metadata import entries_markdown
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.stages.plaintext.formats import FORMATS as RAW_FORMATS
from llm_pipeline.storage.raw_files import combined_digest, listing_digests, scan_folder

RAW_GROUP = "raw_data"


def raw_asset_key(fmt: str) -> dg.AssetKey:
    return dg.AssetKey(f"raw_{fmt}")


def observe_raw_folder(data_dir: DataDirResource, fmt: str) -> dg.ObserveResult:
    layout = data_dir.layout
    folder = layout.raw(fmt)
    scan = scan_folder(folder, layout.root, layout.raw())
    digests = listing_digests(scan)  # one walk of the folder for the digests and the entries not read
    listing = "\n".join(f"- `{name}` ({digest[:12]})" for name, digest in digests.items()) or "_no files_"
    return dg.ObserveResult(
        data_version=dg.DataVersion(combined_digest(digests)),
        metadata={
            "folder": dg.MetadataValue.path(str(folder)),
            "files": dg.MetadataValue.int(len(digests)),
            "bytes": dg.MetadataValue.int(sum(_size(path) for path, _ in scan.files)),
            "file_list": dg.MetadataValue.md(listing),
            "not_read": dg.MetadataValue.md(entries_markdown(scan.refused + scan.ignored)),
        },
    )


def _size(path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:  # removed since the listing
        return 0


def _raw_source(fmt: str) -> dg.SourceAsset:
    # Observable sources are marked beta in Dagster 1.13; they are still the way to give raw files a data version.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        return _observable_raw_source(fmt)


def _observable_raw_source(fmt: str) -> dg.SourceAsset:
    @dg.observable_source_asset(
        name=f"raw_{fmt}",
        group_name=RAW_GROUP,
        description=f"Raw {fmt.upper()} files under raw/{fmt}/ of the data directory; data version = hash of their contents.",
        required_resource_keys={"data_dir"},
    )
    def observe(context: dg.AssetExecutionContext) -> dg.ObserveResult:
        return observe_raw_folder(context.resources.data_dir, fmt)

    return observe


raw_sources = [_raw_source(fmt) for fmt in RAW_FORMATS]
