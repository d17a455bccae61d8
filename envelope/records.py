"""The plaintext inside the payload: file records, then one end record (docs/FORMAT.md).

    file record:  0x01 | name length (u16) | name (UTF-8) | size (u64) | size bytes of data
    end record:   0x00 | statement length (u16) | statement | signature length (u16) | signature

All integers are big-endian. The end record is the last thing in the payload.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from envelope.errors import EnvelopeAuthenticationError
from envelope.statement import MAX_FILES, MAX_STATEMENT, name_problem

FILE_RECORD = 0x01
END_RECORD = 0x00
SIGNATURE_MIN, SIGNATURE_MAX = 8, 139  # DER ECDSA P-521: 137-139 bytes in practice
SIZE_FIELD = 8


def encode_file_record(name: str, size: int) -> bytes:
    encoded = name.encode("utf-8")
    return (
        bytes([FILE_RECORD])
        + len(encoded).to_bytes(2, "big")
        + encoded
        + size.to_bytes(SIZE_FIELD, "big")
    )


def encode_end_record(statement: bytes, signature: bytes) -> bytes:
    return (
        bytes([END_RECORD])
        + len(statement).to_bytes(2, "big")
        + statement
        + len(signature).to_bytes(2, "big")
        + signature
    )


@dataclass
class EndRecord:
    statement: bytes
    signature: bytes


class RecordParser:
    """Parses the decrypted payload incrementally; file data goes to callbacks uncopied.

    ``on_file_start(name, size)``, ``on_file_data(view)``, ``on_file_end()``. Any structural
    fault raises the opaque ``EnvelopeAuthenticationError``: the bytes were authenticated by
    the AEAD, so a fault means a hostile or broken sender.
    """

    def __init__(
        self,
        on_file_start: Callable[[str, int], None],
        on_file_data: Callable[[memoryview], None],
        on_file_end: Callable[[], None],
    ) -> None:
        self._on_start = on_file_start
        self._on_data = on_file_data
        self._on_end = on_file_end
        self._field = bytearray()
        self._need = 1
        self._state = "type"
        self._remaining = 0
        self._name = ""
        self._statement = b""
        self.files = 0
        self.end: EndRecord | None = None

    def feed(self, view: memoryview) -> None:
        pos, size = 0, len(view)
        while pos < size:
            if self._state == "data":
                n = min(self._remaining, size - pos)
                self._on_data(view[pos : pos + n])
                pos += n
                self._remaining -= n
                if self._remaining == 0:
                    self._on_end()
                    self._expect("type", 1)
                continue
            if self._state == "done":
                raise EnvelopeAuthenticationError()  # bytes after the end record
            take = min(self._need - len(self._field), size - pos)
            self._field += view[pos : pos + take]
            pos += take
            if len(self._field) == self._need:
                value = bytes(self._field)
                self._field.clear()
                self._complete(value)

    def _expect(self, state: str, need: int) -> None:
        self._state, self._need = state, need

    def _complete(self, value: bytes) -> None:
        state = self._state
        if state == "type":
            if value[0] == FILE_RECORD and self.files < MAX_FILES:
                self._expect("name_len", 2)
            elif value[0] == END_RECORD and self.files > 0:
                self._expect("statement_len", 2)
            else:
                raise EnvelopeAuthenticationError()
        elif state == "name_len":
            self._expect("name", self._length(value, 1, 255))
        elif state == "name":
            try:
                name = value.decode("utf-8")
            except UnicodeDecodeError:
                raise EnvelopeAuthenticationError() from None
            if name_problem(name) is not None:
                raise EnvelopeAuthenticationError()
            self._name = name
            self._expect("size", SIZE_FIELD)
        elif state == "size":
            self.files += 1
            self._remaining = int.from_bytes(value, "big")
            self._on_start(self._name, self._remaining)
            if self._remaining == 0:
                self._on_end()
                self._expect("type", 1)
            else:
                self._state = "data"
        elif state == "statement_len":
            self._expect("statement", self._length(value, 1, MAX_STATEMENT))
        elif state == "statement":
            self._statement = value
            self._expect("signature_len", 2)
        elif state == "signature_len":
            self._expect("signature", self._length(value, SIGNATURE_MIN, SIGNATURE_MAX))
        elif state == "signature":
            self.end = EndRecord(self._statement, value)
            self._state = "done"

    @staticmethod
    def _length(value: bytes, low: int, high: int) -> int:
        length = int.from_bytes(value, "big")
        if not low <= length <= high:
            raise EnvelopeAuthenticationError()
        return length

    def finish(self) -> EndRecord:
        if self._state != "done" or self.end is None:
            raise EnvelopeAuthenticationError()  # the payload ended inside a record
        return self.end
