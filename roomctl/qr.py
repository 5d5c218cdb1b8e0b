"""QR codes for the display, rendered as SVG (crisp at any projector size)."""

from __future__ import annotations

import qrcode
import qrcode.image.svg


def qr_svg(data: str) -> str:
    """An SVG QR code of ``data`` with a quiet zone and a white background."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, box_size=10)
    qr.add_data(data)
    qr.make(fit=True)
    img = qr.make_image(image_factory=qrcode.image.svg.SvgPathFillImage)
    text = img.to_string(encoding="unicode")
    return str(text)
