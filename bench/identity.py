"""Identity benchmark (issue 20, Speed): what a face's identity costs.

    .venv/bin/python bench/identity.py            # N = 1,000 photos of 3000×4000
    .venv/bin/python bench/identity.py --n 100    # a quick run

1. Per picture on one core, a 1-megapixel JPEG of one person (the three people of tests/photos.py,
   their face a quarter to a third of the short side): the dataset analysis with and without the
   descriptor (its Haar faces, then landmarks + descriptor), and ``scoring.picture_faces`` (decode
   reduced to a short side of 640, dlib's HOG detector, landmarks + descriptor: the path of samples
   and generated pictures); the baseline is the plain decode of the same file. Goal: under 150 ms.
2. Dataset analysis of N photos of 3000×4000 on every core (the studio's picture workers), with
   and without identity, in the same run: ten blocks of N/10, each analysed both ways, which way
   first alternating. Goal: at most 1.5× the time without.
3. Clustering 10,000 faces (three people and strays) with identity.clusters, numpy only.
4. Judging a dataset of 10,000 analysed pictures in a temporary SQLite studio (every verdict
   written the first time, none the second), against a plain read of the same rows.

Photos: 30 distinct pictures (3 people × 5 variations × 2 face sizes) pasted on a smooth scene;
each of the N files is one of them with a distinct JPEG comment, so every file has its own hash
and is read and decoded as a new file.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from io import BytesIO
from pathlib import Path

os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from PIL import Image

from studio.engine.datasets.analysis import DECODE_SIDE, analyze_decoded, analyze_file
from studio.engine.datasets.pool import cores, map_ordered
from studio.engine.identity import model, scoring
from studio.engine.identity.clusters import cluster
from studio.engine.media.thumbnails import decode_image, read_source
from tests.engine.identity.people import VARIANTS, variant
from tests.photos import PEOPLE

TARGETS = {"ms per 1 MP picture (one core)": 150.0, "analysis with / without identity": 1.5}
WIDTH, HEIGHT = 3000, 4000


def picture(person: str, kind: str, size: tuple[int, int], face_share: float) -> bytes:
    """The person's photo scaled so that it is ``face_share`` of the short side wide, on a scene."""
    photo = variant(person, kind)
    scale = face_share * min(size) / (photo.width * 0.22)  # the face is about 22 % of each photo's width
    photo = photo.resize((round(photo.width * scale), round(photo.height * scale)), Image.Resampling.BILINEAR)
    canvas = Image.new("RGB", size, (96, 112, 128))
    canvas.paste(photo, ((size[0] - photo.width) // 2, max(0, (size[1] - photo.height) // 3)))
    buffer = BytesIO()
    canvas.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def write_photos(n: int, folder: Path, size: tuple[int, int]) -> list[Path]:
    bases = [picture(p, k, size, share) for p in PEOPLE for k in VARIANTS for share in (0.2, 0.3)]
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(n):
        base = bases[index % len(bases)]
        path = folder / f"photo-{index:05d}.jpg"
        # A comment segment right after the start-of-image marker: a distinct file, the same pixels.
        comment = f"bench photo {index}".encode()
        path.write_bytes(base[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + base[2:])
        paths.append(path)
    return paths


def without_identity(path: Path) -> object:
    """The analysis as before identity (a module-level function: the picture workers run it)."""
    return analyze_decoded(decode_image(read_source(path), reduce_to=DECODE_SIDE), identity=False)


def per_picture_ms(paths: list[Path], work: Callable[[Path], object], repeats: int) -> float:
    start = time.perf_counter()
    for _ in range(repeats):
        for path in paths:
            work(path)
    return (time.perf_counter() - start) * 1000 / (repeats * len(paths))


def bench_one_core(folder: Path, repeats: int) -> dict[str, float]:
    import cv2
    cv2.setNumThreads(1)  # one core, as in a picture worker
    side = round((1_000_000 * 3 / 4) ** 0.5)
    paths = []
    for person in PEOPLE:
        path = folder / f"one-megapixel-{person}.jpg"
        path.write_bytes(picture(person, "plain", (round(side * 4 / 3), side), 0.3))
        paths.append(path)
    model.load()  # once per process (about 0.5 s), not per picture
    return {"decode (baseline)": per_picture_ms(paths, lambda p: decode_image(read_source(p)), repeats),
            "analysis without identity": per_picture_ms(paths, without_identity, repeats),
            "analysis with identity": per_picture_ms(paths, analyze_file, repeats),
            "picture_faces (HOG + descriptor)": per_picture_ms(paths, scoring.picture_faces, repeats)}


BLOCKS = 10


def bench_dataset(paths: list[Path]) -> dict[str, float]:
    def run(work: Callable[[Path], object], chosen: list[Path]) -> float:
        start = time.perf_counter()
        with closing(map_ordered(chosen, lambda p: p, work)) as outcomes:
            for _path, outcome in outcomes:
                assert not isinstance(outcome, ValueError), outcome
        return time.perf_counter() - start
    run(analyze_file, paths[:4 * cores()])  # the pool's start and each worker's model load
    # Ten blocks, each analysed both ways, the first way alternating: a change in the machine's
    # load falls on both sides alike.
    plain = identity = 0.0
    for number, start in enumerate(range(0, len(paths), max(1, len(paths) // BLOCKS))):
        block = paths[start:start + max(1, len(paths) // BLOCKS)]
        ways = [(False, without_identity), (True, analyze_file)]
        for with_identity, work in ways if number % 2 == 0 else ways[::-1]:
            seconds = run(work, block)
            plain, identity = (plain, identity + seconds) if with_identity else (plain + seconds, identity)
    return {"without identity s": plain, "with identity s": identity}


def bench_clusters(n: int = 10_000) -> float:
    rng = np.random.default_rng(1)
    people = rng.normal(0, 0.09, (3, 128))
    alike = people[np.arange(n - 50) % 3] + rng.normal(0, 0.02, (n - 50, 128))
    faces = np.concatenate([alike, rng.normal(0, 0.09, (50, 128))])
    start = time.perf_counter()
    cluster(faces)
    return time.perf_counter() - start


def bench_judge(folder: Path, n: int = 10_000) -> dict[str, float]:
    import uuid

    from sqlalchemy import select

    from studio.engine.core import Studio
    from studio.engine.datasets.service import create_dataset
    from studio.engine.db.models import DatasetImage
    from studio.engine.db.types import utcnow
    from studio.engine.identity import descriptors, references
    from studio.engine.identity.dataset import judge_dataset
    from studio.engine.influencers import Persona, create_influencer
    studio = Studio.open(folder / "studio")
    workspace = studio.workspace()
    mia = create_influencer(studio, workspace.id, Persona(name="Mia"))
    dataset = create_dataset(studio, workspace.id, mia.id, "Big")
    rng = np.random.default_rng(2)
    people = rng.normal(0, 0.09, (3, 128))
    with studio.db.session() as session:
        session.add_all([DatasetImage(
            id=uuid.uuid4(), workspace_id=workspace.id, dataset_id=dataset.id, storage_key=f"k/{i}",
            sha256=f"{i:064x}", width=3000, height=4000, faces=[[900, 800, 600, 600]], analyzed_at=utcnow(),
            face_descriptors=[descriptors.encode(people[0 if i % 10 else i % 3] + rng.normal(0, 0.02, 128))])
            for i in range(n)])
    start = time.perf_counter()
    with studio.db.session() as session:
        read = len(list(session.scalars(select(DatasetImage).where(DatasetImage.dataset_id == dataset.id))))
    plain = time.perf_counter() - start
    references.use_largest_cluster(studio, mia.id)  # her references: the cluster of the 9 in 10
    start = time.perf_counter()
    judge_dataset(studio, dataset.id)
    again = time.perf_counter() - start
    studio.close()
    assert read == n
    return {"plain read of the rows s": plain, "judge, nothing changed s": again}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="photos in the dataset analysis (default 1000)")
    parser.add_argument("--repeats", type=int, default=5, help="passes over the 1 MP pictures (default 5)")
    args = parser.parse_args()
    print(f"parameters: N={args.n} photos of {WIDTH}×{HEIGHT} (JPEG q90, 30 distinct), {cores()} cores, "
          f"1 MP pictures × {args.repeats} on one core, load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        one = bench_one_core(Path(tmp), args.repeats)
        base = one["decode (baseline)"]
        for name, ms in one.items():
            print(f"  {name:<34} {ms:7.1f} ms per picture  ({ms / base:.1f}× the decode)")
        print(f"  goal: under {TARGETS['ms per 1 MP picture (one core)']:.0f} ms per picture with identity")
        paths = write_photos(args.n, Path(tmp) / "photos", (WIDTH, HEIGHT))
        times = bench_dataset(paths)
        ratio = times["with identity s"] / times["without identity s"]
        for name, seconds in times.items():
            print(f"  analysis of {args.n} photos {name:<20} {seconds:7.2f} s  ({args.n / seconds:.1f}/s)")
        print(f"  with / without identity: {ratio:.2f}×  (goal ≤ {TARGETS['analysis with / without identity']}×)")
        judged = bench_judge(Path(tmp))
    print(f"  clustering 10,000 faces: {bench_clusters():.2f} s")
    plain, again = judged["plain read of the rows s"], judged["judge, nothing changed s"]
    print(f"  judging 10,000 pictures (verdicts unchanged): {again:.2f} s; a plain read of the rows "
          f"{plain:.2f} s ({again / plain:.1f}×)")


if __name__ == "__main__":
    main()
