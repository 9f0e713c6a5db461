"""ComfyUI: the client, workflow templates and their validation, and the generation jobs."""
