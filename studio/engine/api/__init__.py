"""The local HTTP API (``influencerai-studio api serve``): the CLI's verbs over HTTP, on the same
engine operations, for scripts and n8n. Bearer tokens scoped to one workspace (``tokens``)."""
