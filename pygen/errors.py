"""Exception types. Each carries a one-line message that names the file, line or key at fault."""

from __future__ import annotations


class PygenError(Exception):
    """Base class: an error a user can act on, printed as one line without a traceback."""


class UsageError(PygenError):
    """Bad command-line flag or value (exit 2, like Go's flag package)."""


class ConfigError(PygenError):
    """A config file that cannot be read or decoded."""


class TemplateError(PygenError):
    """A template that does not parse or fails while rendering."""


class TemplateFunctionError(Exception):
    """Raised by a template function (docker-gen's functions return errors the same way)."""


class SourceError(PygenError):
    """The state source (Docker daemon, etcd) could not be read."""


class WriteError(PygenError):
    """The destination could not be read, compared or written; the old file is intact."""


class CheckError(PygenError):
    """The check command rejected the new content; the old file is intact."""
