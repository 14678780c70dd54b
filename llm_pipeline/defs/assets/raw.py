"""The raw input folders as observable sources: their data version is the hash of their files."""

import warnings

import dagster as dg

from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.stages.plaintext.formats import FORMATS as RAW_FORMATS
from llm_pipeline.storage.raw_files import combined_digest, folder_digests

RAW_GROUP = "raw_data"


def raw_asset_key(fmt: str) -> dg.AssetKey:
    return dg.AssetKey(f"raw_{fmt}")


def observe_raw_folder(data_dir: DataDirResource, fmt: str) -> dg.ObserveResult:
    folder = data_dir.layout.raw(fmt)
    digests = folder_digests(folder)
    listing = "\n".join(f"- `{name}` ({digest[:12]})" for name, digest in digests.items()) or "_no files_"
    return dg.ObserveResult(
        data_version=dg.DataVersion(combined_digest(digests)),
        metadata={
            "folder": dg.MetadataValue.path(str(folder)),
            "files": dg.MetadataValue.int(len(digests)),
            "bytes": dg.MetadataValue.int(sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())),
            "file_list": dg.MetadataValue.md(listing),
        },
    )


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
