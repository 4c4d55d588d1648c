"""pygen: render files from live Docker or etcd state with Jinja2 templates."""

__version__ = "0.1.0"
