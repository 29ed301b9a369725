"""Gradio with its MCP server (`launch(mcp_server=True)`), as its docs show.

Usage: REALWORLD_PORT=<n> python py_gradio.py default.  Gradio chooses nothing itself here: it
binds 127.0.0.1 on the port given; readiness is its "Running on local URL" line, re-printed as
"PORT <n>".
"""

import os

import gradio as gr


def letter_counter(word: str, letter: str) -> int:
    """Count how many times a letter occurs in a word.

    Args:
        word: the word
        letter: the letter
    """
    return word.lower().count(letter.lower())


demo = gr.Interface(fn=letter_counter, inputs=["text", "text"], outputs="number")
port = int(os.environ["REALWORLD_PORT"])
demo.launch(
    server_name="127.0.0.1",
    server_port=port,
    mcp_server=True,
    prevent_thread_lock=True,
    ssr_mode=False,
    quiet=True,
)
print(f"PORT {port}", flush=True)
demo.block_thread()
