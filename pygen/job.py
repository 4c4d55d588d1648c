"""One configured output: render its templates from a source's state, write, say what to notify.

A Job is the same for the Docker and the etcd front end; the source provides the template
context and, for Docker, the containers to signal. Nothing here touches the destination unless
the render, the blank-line pass and the check all succeeded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import jinja2

from pygen.config import TemplateConfig
from pygen.errors import ConfigError
from pygen.notify import ContainerNotification, Notification, NotifyCommand
from pygen.source import Source
from pygen.templating import TemplateSet
from pygen.writer import Destination, remove_blank_lines, write_output

log = logging.getLogger("pygen")


def _compile_check_command(template_text: str, dest: str) -> Callable[[str], str] | None:
    """``-check-cmd "nginx -t -c {{ src }}"``: a Jinja string with ``src`` and ``dest``."""
    if not template_text:
        return None
    try:
        template = jinja2.Environment(autoescape=False).from_string(template_text)
    except jinja2.TemplateSyntaxError as error:
        raise ConfigError(f"check command {template_text!r}: {error.message}") from None
    return lambda staged: template.render(src=staged, dest=dest)


class Job:
    """Render one TemplateConfig; tell the caller whether the destination changed."""

    def __init__(self, config: TemplateConfig, functions: Mapping[str, Callable[..., Any]]) -> None:
        self.config = config
        self.templates = TemplateSet(config.templates, functions)
        self.destination = Destination(config.dest, config.atomic)
        self.check_command = _compile_check_command(config.check_cmd, config.dest)
        self.notification = Notification(
            command=NotifyCommand(config.notify_cmd, config.notify_output, config.notify_timeout)
            if config.notify_cmd
            else None,
            containers=ContainerNotification(
                containers=tuple(sorted(config.notify_containers.items())),
                filters=tuple(
                    (key, tuple(values)) for key, values in sorted(config.notify_containers_filter.items())
                ),
                filter_signal=config.notify_containers_signal,
            ),
        )
        self.last_subjects: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        return self.config.name

    def uses_file(self, path: str) -> bool:
        """Whether an edit of ``path`` affects this job's output."""
        return self.templates.uses_file(path)

    def render(self, source: Source) -> bool:
        """Render and write; True when the destination changed. Raises PygenError subclasses."""
        data = source.render_input(self.config)
        self.last_subjects = data.subjects
        text = self.templates.render(data.context)
        if not self.config.keep_blank_lines:
            text = remove_blank_lines(text)
        changed = write_output(self.destination, text.encode("utf-8"), self.check_command)
        if self.destination.is_stdout:
            return True
        if changed:
            log.info("Generated '%s' from %d %s", self.config.dest, data.count, data.noun)
        else:
            log.info(
                "Contents of %s did not change. Skipping notification '%s'",
                self.config.dest,
                self.config.notify_cmd,
            )
        return changed
