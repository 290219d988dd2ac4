"""DICOM made from pydicom's bundled test files, with fresh UIDs, for the demo and the tests.

pydicom ships its test files in the wheel, so nothing is downloaded. Several of them share a SOP
Instance UID, so every generated instance gets new Study/Series/SOP Instance UIDs.
"""

from __future__ import annotations

import io
from copy import deepcopy
from dataclasses import dataclass
from typing import Any

from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid


@dataclass
class SampleInstance:
    filename: str
    content: bytes
    study_uid: str
    series_uid: str
    sop_uid: str


def _template(name: str) -> Dataset:
    path = get_testdata_file(name)
    if path is None:
        raise RuntimeError(f"pydicom's bundled test file {name} is missing")
    return dcmread(path)


def _encode(ds: Dataset) -> bytes:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def _instance(
    template: Dataset,
    *,
    patient_id: str,
    patient_name: str,
    study_uid: str,
    series_uid: str,
    number: int,
    study_description: str,
    series_description: str,
    birth_date: str = "",
    sex: str = "",
    pixel_data: bytes | None = None,
    rows: int | None = None,
    columns: int | None = None,
    accession_number: str = "",
    study_date: str = "",
    study_time: str = "",
) -> SampleInstance:
    ds = deepcopy(template)
    if study_date:
        ds.StudyDate = ds.SeriesDate = study_date
    if study_time:
        ds.StudyTime = ds.SeriesTime = study_time
    sop_uid = generate_uid()
    ds.PatientID = patient_id
    ds.PatientName = patient_name
    ds.PatientBirthDate = birth_date
    ds.PatientSex = sex
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.SOPInstanceUID = sop_uid
    ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
    ds.StudyDescription = study_description
    ds.SeriesDescription = series_description
    ds.SeriesNumber = 1 if ds.Modality == "CT" else 2
    ds.InstanceNumber = number
    ds.AccessionNumber = accession_number or "DEMO" + study_uid[-8:]
    ds.ReferringPhysicianName = "Docteur^Demo"
    ds.StudyDate = ds.get("StudyDate") or "20240115"
    if "ImagePositionPatient" in ds:
        x, y, _z = ds.ImagePositionPatient
        ds.ImagePositionPatient = [x, y, float(number) * 2.5]
    if pixel_data is not None:
        ds.Rows, ds.Columns = rows, columns
        ds.PixelData = pixel_data
    return SampleInstance(
        f"{ds.Modality}-{number:04d}.dcm", _encode(ds), study_uid, series_uid, sop_uid
    )


def demo_study(
    *,
    patient_id: str,
    patient_name: str = "Patient^POC",
    ct_count: int = 5,
    mr_count: int = 3,
    birth_date: str = "19700101",
    sex: str = "O",
    study_date: str = "",
    study_time: str = "",
) -> list[SampleInstance]:
    """One study with a CT series (CT_small.dcm) and an MR series (MR_small.dcm), dated as the
    sample files are (2004) unless ``study_date``/``study_time`` (DICOM form) say otherwise."""
    study_uid = generate_uid()
    common: dict[str, Any] = {
        "patient_id": patient_id,
        "patient_name": patient_name,
        "study_uid": study_uid,
        "study_description": "Demo CT and MR",
        "birth_date": birth_date,
        "sex": sex,
        "study_date": study_date,
        "study_time": study_time,
    }
    ct, mr = _template("CT_small.dcm"), _template("MR_small.dcm")
    ct_series, mr_series = generate_uid(), generate_uid()
    return [
        _instance(ct, series_uid=ct_series, number=i + 1, series_description="CT demo", **common)
        for i in range(ct_count)
    ] + [
        _instance(mr, series_uid=mr_series, number=i + 1, series_description="MR demo", **common)
        for i in range(mr_count)
    ]


def ct_volume(*, patient_id: str, count: int = 200, size: int = 512) -> list[SampleInstance]:
    """A CT series of ``count`` slices of ``size``² 16-bit pixels (about 0.5 MB each at 512)."""
    template = _template("CT_small.dcm")
    study_uid, series_uid = generate_uid(), generate_uid()
    row = bytes((i * 7) % 251 for i in range(size * 2))
    instances = []
    for i in range(count):
        # A different pattern per slice, so no two files are alike.
        shift = (i * 2) % len(row)
        pixels = (row[shift:] + row[:shift]) * size
        instances.append(
            _instance(
                template,
                patient_id=patient_id,
                patient_name="Bench^Volume",
                study_uid=study_uid,
                series_uid=series_uid,
                number=i + 1,
                study_description="Bench CT volume",
                series_description=f"CT {count} slices",
                pixel_data=pixels,
                rows=size,
                columns=size,
            )
        )
    return instances


def one_instance_study(
    *,
    patient_id: str,
    patient_name: str = "Patient^POC",
    study_date: str = "20240115",
    study_time: str = "120000",
    accession_number: str = "",
    study_description: str = "One image",
    modality: str = "CT",
    study_uid: str = "",
    **tags: Any,
) -> SampleInstance:
    """A study of one instance (CT_small.dcm or MR_small.dcm), with the study attributes a search
    matches on; ``tags`` sets any other attribute by keyword. A fresh Study Instance UID unless
    ``study_uid`` is given (a test that must know it before the study exists)."""
    template = _template("MR_small.dcm" if modality == "MR" else "CT_small.dcm")
    study_uid = study_uid or generate_uid()
    ds = deepcopy(template)  # _instance copies it again: the template stays untouched
    ds.StudyDate, ds.StudyTime = study_date, study_time
    for keyword, value in tags.items():
        setattr(ds, keyword, value)
    return _instance(
        ds,
        patient_id=patient_id,
        patient_name=patient_name,
        study_uid=study_uid,
        series_uid=generate_uid(),
        number=1,
        study_description=study_description,
        series_description=f"{modality} 1",
        accession_number=accession_number,
    )
