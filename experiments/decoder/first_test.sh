# Sourced by the picture scripts (experiments/decoder/make_pictures.sh, experiments/decoder-256/h200.sh):
#   first_test PREPARED_DATA ARTIST
# prints the original file of the artist's first test painting (the raw folder the data was
# prepared from, as its index.json records it). Uses $python.
first_test() {
  "$python" -c 'import json, sys; from pathlib import Path
index = json.loads((Path(sys.argv[1]) / "index.json").read_text())
print(Path(index["prepared_with"]["raw"]) / index["rows"][sys.argv[2]]["test"][0]["file"])' "$1" "$2"
}
