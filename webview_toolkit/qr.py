"""QR codes of the service's URLs: PNG and SVG for pages, text for the terminal."""
from __future__ import annotations

import io

import qrcode
import qrcode.image.svg


def _code(data: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(data)
    code.make(fit=True)
    return code


def png(data: str) -> bytes:
    """A PNG image of the QR code."""
    buffer = io.BytesIO()
    _code(data).make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def svg(data: str) -> str:
    """An SVG document of the QR code."""
    buffer = io.BytesIO()
    _code(data).make_image(image_factory=qrcode.image.svg.SvgPathImage).save(buffer)
    return buffer.getvalue().decode("utf-8")


def terminal(data: str) -> str:
    """The QR code as text, two modules per character cell, for `serve` to print."""
    matrix = _code(data).get_matrix()
    blocks = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}
    lines = []
    for top in range(0, len(matrix), 2):
        upper = matrix[top]
        lower = matrix[top + 1] if top + 1 < len(matrix) else [False] * len(upper)
        # Dark modules print as blank on a dark terminal: invert so light is drawn.
        lines.append("".join(blocks[(not a, not b)] for a, b in zip(upper, lower)))
    return "\n".join(lines)
