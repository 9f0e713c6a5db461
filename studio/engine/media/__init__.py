"""Video finishing with FFmpeg: find it, probe files, render with progress, social presets.

FFmpeg always runs as a child process with an argument list (never a shell), in its own process
group so a cancel takes it and nothing else. Probing uses PyAV, as the bundled FFmpeg has no
ffprobe.
"""
