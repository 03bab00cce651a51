"""Getting paintings in: sources and downloader, the 256x256 preprocessor, synthetic painters,
and the processed-data format that training reads."""
