# English pages: 03/10/2025 and 03/10/2025 2:05 p.m. (Django's short formats, used everywhere).
DATE_FORMAT = "m/d/Y"
SHORT_DATE_FORMAT = "m/d/Y"
DATETIME_FORMAT = "m/d/Y P"
SHORT_DATETIME_FORMAT = "m/d/Y P"
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%m/%d/%Y"]
