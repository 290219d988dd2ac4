"""The upload fuzz corpus, built when the tests run (seeded, nothing binary in the repository).

``upload_corpus(patient_id)`` returns files as a user or a tool could send them, each with what
the portal must answer: stored (a good file, however odd its name), or refused with a reason
containing a given phrase. Every bad file carries its own UIDs, never a good file's: a bad file
that slipped into Orthanc would show as an instance nobody expected.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
from dataclasses import dataclass

from devtools.dicom_samples import SampleInstance, demo_study

SEED = 14
CUT_EVERY = 300  # bytes: a sample MR (10 KB) cut at every 300th byte
# A zip bomb's one entry: a DICOM preamble, then zeros (a thousandfold in deflate).
BOMB_BYTES = 128 * 1024 * 1024


@dataclass
class Sample:
    name: str
    content: bytes
    expect: str  # "stored", or a phrase of the reason the file is refused with
    sop_uid: str = ""  # a stored file's SOP Instance UID
    sent: bool = True  # False: an entry of a zip sent as a whole
    reported: bool = True  # False: a zip whose entries are reported, one by one

    @property
    def stored(self) -> bool:
        return self.expect == "stored"


def one(patient_id: str, modality: str = "CT") -> SampleInstance:
    study = demo_study(patient_id=patient_id, ct_count=1, mr_count=1)
    return study[0] if modality == "CT" else study[1]


def good(name: str, patient_id: str) -> Sample:
    instance = one(patient_id)
    return Sample(name, instance.content, "stored", instance.sop_uid)


def zip_bytes(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def bomb() -> bytes:
    """One entry of BOMB_BYTES, deflated chunk by chunk (never whole in memory)."""
    head = one("BOMB", "MR").content[:132]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("bomb.dcm")
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as entry:
            entry.write(head)
            zeros = bytes(1024 * 1024)
            for _ in range(BOMB_BYTES // len(zeros)):
                entry.write(zeros)
    return buffer.getvalue()


def patched_zip(content: bytes, name: str, *, size: int | None = None, method: int | None = None):
    """A zip whose headers lie: the uncompressed size or the method of its entry ``name``,
    rewritten in its local header and in the central directory."""
    data = bytearray(content)
    encoded = name.encode()
    for signature, method_at, size_at, name_at in ((b"PK\x03\x04", 8, 22, 30),
                                                   (b"PK\x01\x02", 10, 24, 46)):  # fmt: skip
        start = 0
        while (start := data.find(signature, start)) >= 0:
            if data[start + name_at : start + name_at + len(encoded)] == encoded:
                if size is not None:
                    data[start + size_at : start + size_at + 4] = struct.pack("<I", size)
                if method is not None:
                    data[start + method_at : start + method_at + 2] = struct.pack("<H", method)
            start += 4
    return bytes(data)


def with_length(content: bytes, marker: bytes, offset: int, length: bytes) -> bytes:
    """The file with the length field ``offset`` bytes after ``marker`` replaced."""
    at = content.index(marker) + offset
    return content[:at] + length + content[at + len(length) :]


def upload_corpus(patient_id: str) -> list[Sample]:
    rng = random.Random(SEED)  # noqa: S311 - a reproducible corpus, not a secret
    samples = [
        good("plain.dcm", patient_id),
        good("étude-心臓-🫀 «x».dcm", patient_id),
        good("long-" + "x" * 400 + ".dcm", patient_id),
        # Orthanc drops a trailing space (DICOM padding): the same patient for it and for us.
        good("trailing-space-id.dcm", patient_id + " "),
        Sample("empty.dcm", b"", "Empty file"),
    ]
    for size in (1, 131, 132, 1000, 70_000):
        samples.append(Sample(f"random-{size}.bin", rng.randbytes(size), "Not a DICOM file"))
    for number in range(3):  # past the preamble, pydicom has to read garbage
        garbage = bytes(128) + b"DICM" + rng.randbytes(2000)
        samples.append(Sample(f"garbage-{number}.dcm", garbage, "DICOM"))
    # Millions of empty elements would hold a worker for minutes: refused once past a bound.
    samples.append(Sample("zeros-1MB.dcm", bytes(128) + b"DICM" + bytes(1 << 20), "more than"))
    mr = one(patient_id, "MR").content
    for cut in range(CUT_EVERY, len(mr), CUT_EVERY):
        samples.append(Sample(f"cut-{cut}.dcm", mr[:cut], "DICOM"))
    pixels, name = b"\xe0\x7f\x10\x00OW\x00\x00", b"\x10\x00\x10\x00PN"
    for label, marker, offset, length in (
        ("pixels-4GB", pixels, 8, struct.pack("<I", 0xFFFFFFF0)),
        ("pixels-2GB", pixels, 8, struct.pack("<I", 0x7FFFFFFF)),
        ("pixels-undefined", pixels, 8, struct.pack("<I", 0xFFFFFFFF)),
        ("pixels-3-bytes", pixels, 8, struct.pack("<I", 3)),
        ("name-64KB", name, 6, struct.pack("<H", 0xFFFF)),
    ):
        content = with_length(one(patient_id, "MR").content, marker, offset, length)
        samples.append(Sample(f"length-{label}.dcm", content, "DICOM"))
    for label, wrong in (("leading-space", " " + patient_id), ("tab", "\t" + patient_id)):
        samples.append(Sample(f"id-{label}.dcm", one(wrong).content, "spaces or control"))
    for label, wrong in (("star", patient_id[:-1] + "*"), ("question", patient_id[:-1] + "?")):
        samples.append(Sample(f"id-{label}.dcm", one(wrong).content, "is not this patient"))
    samples += zips(patient_id)
    return samples


def zips(patient_id: str) -> list[Sample]:
    inside = [good(f"exam/{name}.dcm", patient_id) for name in ("ok", "名前 avec espace")]
    odd = [good("nul\x00name.dcm", patient_id), good("line\nbreak.dcm", patient_id)]
    unsafe = ("../evil.dcm", "/abs/evil.dcm", "a/../../evil.dcm", "C:/evil.dcm", "\\evil.dcm")
    evil = {name: one(patient_id).content for name in unsafe}
    mixed = zip_bytes(
        {
            **{s.name: s.content for s in inside},
            **evil,
            "exam/empty.dcm": b"",
            "exam/readme.txt": b"not an image\n" * 10,
            "exam/inner.zip": zip_bytes({"x.dcm": one(patient_id).content}),
        }
    )
    # zipfile cuts a name at its NUL, on writing as on reading: the NUL is put in afterwards.
    named = zip_bytes({"nulXname.dcm": odd[0].content, odd[1].name: odd[1].content})
    named = named.replace(b"nulXname.dcm", b"nul\x00name.dcm")
    liar = zip_bytes({"liar.dcm": one(patient_id).content + bytes(4 * 1024 * 1024)})
    deflate64 = zip_bytes({"d64.dcm": one(patient_id).content})
    return [
        Sample("mixed.zip", mixed, "", reported=False),
        *(entry(f"mixed.zip/{s.name}", "stored", s.sop_uid) for s in inside),
        *(entry(f"mixed.zip/{name}", "Unsafe path") for name in evil),
        entry("mixed.zip/exam/empty.dcm", "Empty file"),
        entry("mixed.zip/exam/readme.txt", "Not a DICOM file"),
        entry("mixed.zip/exam/inner.zip", "zip inside a zip"),
        Sample("named.zip", named, "", reported=False),
        entry("named.zip/nul", "stored", odd[0].sop_uid),
        entry("named.zip/line\ufffdbreak.dcm", "stored", odd[1].sop_uid),
        Sample("bomb.zip", bomb(), "zip bomb"),
        # Sizes that lie: the entry stops at its declared 1000 bytes (and fails its CRC).
        Sample("liar.zip", patched_zip(liar, "liar.dcm", size=1000), "", reported=False),
        entry("liar.zip/liar.dcm", "Unreadable zip entry"),
        Sample("deflate64.zip", patched_zip(deflate64, "d64.dcm", method=9), "", reported=False),
        entry("deflate64.zip/d64.dcm", "Unreadable zip entry"),
        Sample("stored.zip", zip_bytes({"s.dcm": b"x"}, zipfile.ZIP_STORED), "", reported=False),
        entry("stored.zip/s.dcm", "Not a DICOM file"),
        Sample("empty.zip", zip_bytes({}), "holds no file"),
        Sample("broken.zip", mixed[: len(mixed) // 2], "Not a DICOM file"),
    ]


def entry(name: str, expect: str, sop_uid: str = "") -> Sample:
    return Sample(name, b"", expect, sop_uid, sent=False)
