"""A session with the labenv Java kernel through jupyter_client, as a notebook server holds one.

Run by KernelSessionIT with Debian's python and JUPYTER_PATH naming the installed kernelspec. It runs the
scenarios below and prints one JSON object, the messages the kernel sent for each; the IT asserts on them.
Waits have a generous timeout: a guard against a hang, never a measurement.
"""
import json
import os
import signal
import sys
import tempfile
import time

from jupyter_client.manager import start_new_kernel

# A process started in the background (a CI script's `&`, nohup) has SIGINT ignored, and an ignored signal stays
# ignored across exec: the kernel would never see the interrupt a notebook server sends it. A notebook server run
# from a terminal gives its kernels the default disposition; so does this session.
signal.signal(signal.SIGINT, signal.SIG_DFL)

TIMEOUT = 120


def iopub_until_idle(kc, msg_id, on_message=None):
    """The iopub messages answering msg_id, up to its idle status."""
    messages = []
    while True:
        msg = kc.get_iopub_msg(timeout=TIMEOUT)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        messages.append({"type": msg["msg_type"], "content": msg["content"]})
        if on_message:
            on_message(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return messages


def shell_reply(kc, msg_id):
    while True:
        reply = kc.get_shell_msg(timeout=TIMEOUT)
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply["content"]


def execute(kc, code):
    msg_id = kc.execute(code)
    iopub = iopub_until_idle(kc, msg_id)
    return {"reply": shell_reply(kc, msg_id), "iopub": iopub}


def wait_for_stream(kc, msg_id, text, seen):
    """Reads iopub until a stream of msg_id contains text; keeps what it read in seen."""
    while True:
        msg = kc.get_iopub_msg(timeout=TIMEOUT)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        seen.append({"type": msg["msg_type"], "content": msg["content"]})
        if msg["msg_type"] == "stream" and text in msg["content"]["text"]:
            return


def interrupted(km, kc, how):
    """A cell that loops forever, without ever looking at an interrupt flag, stopped by how."""
    msg_id = kc.execute('System.out.println("looping");\nwhile (true) {}')
    before = []
    wait_for_stream(kc, msg_id, "looping", before)
    if how == "message":
        km.interrupt_kernel()  # the kernelspec's interrupt_mode is "message": an interrupt_request
    else:
        km.signal_kernel(signal.SIGINT)  # as a notebook server does for kernels in signal mode
    reply = shell_reply(kc, msg_id)
    after_interrupt = iopub_until_idle(kc, msg_id)
    return {"reply": reply, "iopub": before + after_interrupt, "next": execute(kc, "1 + 1")}


def streamed(kc, flag):
    """Output written while a cell runs reaches the client before the cell ends: the cell waits for the client to
    create flag, which it does only once it has seen the output. One snippet and no newline, so neither the end of
    a snippet nor a line flushes it."""
    code = ('{\n  System.out.print("first");\n  System.err.print("warned");\n'
            '  while (!Files.exists(Path.of("%s"))) { Thread.sleep(20); }\n'
            '  System.out.println(" then second");\n}' % flag)
    msg_id = kc.execute(code)
    before = []
    wait_for_stream(kc, msg_id, "first", before)
    open(flag, "w").close()
    rest = iopub_until_idle(kc, msg_id)
    return {"beforeFlag": before, "iopub": rest, "reply": shell_reply(kc, msg_id)}


def stop_on_error(kc):
    """Three cells sent at once, as "Run all" sends them; the first fails."""
    ids = [kc.execute(code) for code in
           ('throw new IllegalStateException("stop here");', '"queued 1"', '"queued 2"')]
    replies = [shell_reply(kc, msg_id) for msg_id in ids]
    return {"replies": replies, "next": execute(kc, '"after"')}


def main():
    results = {}
    work = tempfile.mkdtemp(prefix="labenv-kernel-session-")
    csv = os.path.join(work, "penguins.csv")
    with open(csv, "w") as f:
        f.write("species,mass\nAdelie,3750\nGentoo,5000\nChinstrap,3800\n")

    start = time.monotonic()
    km, kc = start_new_kernel(kernel_name="labenv-java", startup_timeout=TIMEOUT)
    results["startSeconds"] = round(time.monotonic() - start, 3)
    process = km.provisioner.process  # kept: shutdown_kernel forgets its provisioner
    try:
        msg_id = kc.kernel_info()
        results["kernelInfo"] = shell_reply(kc, msg_id)

        start = time.monotonic()
        results["first"] = execute(kc, "1 + 1")
        results["firstCellSeconds"] = round(time.monotonic() - start, 3)

        results["table"] = execute(kc, (
            'Table t = Table.create("penguins",\n'
            '    StringColumn.create("species", "Adelie", "<Gentoo>"),\n'
            '    DoubleColumn.create("mass", 3750.0, 5000.0));\n'
            't'))
        results["csv"] = execute(kc, 'Table.read().csv("%s")' % csv)
        results["figure"] = execute(kc, 'ScatterPlot.create("mass", t, "mass", "mass")')
        results["compileError"] = execute(kc, 'int a = 1;\nint b = 2;\nString c = a + b;')
        results["exception"] = execute(kc, (
            'int[] values = {1, 2};\n'
            'int total = 0;\n'
            'for (int i = 0; i <= values.length; i++) total += values[i];'))
        results["interruptMessage"] = interrupted(km, kc, "message")
        results["interruptSignal"] = interrupted(km, kc, "signal")
        results["streamed"] = streamed(kc, os.path.join(work, "go"))
        results["stopOnError"] = stop_on_error(kc)
    except Exception as e:  # the IT prints the whole output when an assertion fails
        results["failure"] = "%s: %s" % (type(e).__name__, e)
    finally:
        kc.stop_channels()
        km.shutdown_kernel()  # a shutdown_request; the kernel is killed only if it does not exit
        results["exitCode"] = process.wait(timeout=TIMEOUT)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
