"""Driving the page as a person does, for the browser tests and for the docs' screenshots
(experiments/docs_pictures.py): a painting dropped on it from outside the browser."""

from __future__ import annotations

import base64
from pathlib import Path


def drop(page, path: Path) -> None:
    """A real drop: a File in a DataTransfer, dispatched as the browser dispatches a drag's end."""
    page.evaluate(
        """([name, data]) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: "image/jpeg" }));
            for (const kind of ["dragenter", "dragover", "drop"])
                document.body.dispatchEvent(new DragEvent(kind, { dataTransfer: transfer, bubbles: true, cancelable: true }));
        }""",
        [path.name, base64.b64encode(path.read_bytes()).decode("ascii")],
    )
