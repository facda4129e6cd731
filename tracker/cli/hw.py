"""`mltrack hw`: the hardware found, its class, and a calibration score stored in the db."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tracker.cli import render
from tracker.cli.app import tracker
from tracker.cli.days import Json


def hw(
    json: Json = False,
    no_calibrate: Annotated[bool, typer.Option(
        "--no-calibrate", help="Only detect; show the newest stored calibration.")] = False,
) -> None:
    """Show this machine (CPU, GPUs, board, FPGA, declared board), its hardware class and
    fingerprint, and calibrate it (a ~1 s compute- and memory-bound workload); the result
    is stored in progress.db, where benchmark targets find it."""
    from tracker.benchmarks import hardware_report
    from tracker.errors import WorkspaceError

    try:
        t = tracker()
    except WorkspaceError:
        t = None  # outside a course: show the machine, store nothing
    report = hardware_report(t.ws if t else None, calibrate=not no_calibrate,
                             store=t.store if t else None)
    if json:
        render.print_json(report)
        return
    _render(report, in_course=t is not None)


def _render(report: dict[str, Any], in_course: bool) -> None:
    from rich.table import Table

    esc = render.escape
    m = report["machine"]
    cpu, nvml, board, fpga = m["cpu"], m["nvml"], m["board"], m["fpga"]
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("class", f"[bold green]{esc(m['class']['id'])}[/] · {esc(m['class']['title'])}")
    grid.add_row("fingerprint", m["fingerprint"])
    cores = f"{cpu['physical_cores'] or '?'} cores / {cpu['logical_cores']} threads"
    freq = f", {cpu['freq_mhz']:.0f} MHz" if cpu["freq_mhz"] else ""
    flags = f", {' '.join(cpu['flags'])}" if cpu["flags"] else ""
    grid.add_row("cpu", f"{esc(cpu['model'])} ({cpu['arch']}), {cores}{freq}{flags}")
    grid.add_row("memory", f"{cpu['memory_bytes'] / 2**30:.1f} GiB")
    if nvml["gpus"]:
        for g in nvml["gpus"]:
            clocks = (f", SM {g['sm_clock_mhz']}/{g['sm_clock_max_mhz']} MHz"
                      if g["sm_clock_mhz"] else "")
            slowed = [r for r in g["throttle_reasons"] if r != "gpu-idle"]
            note = f" [yellow]slowed: {', '.join(slowed)}[/]" if slowed else ""
            grid.add_row(f"gpu {g['index']}",
                         f"{esc(g['name'])} ({g['arch']}, CC {g['compute_capability'] or '?'}), "
                         f"{g['memory_bytes'] / 2**30:.0f} GiB{clocks}{note}")
        grid.add_row("driver", f"{nvml['driver']} (CUDA {nvml['cuda_driver'] or '?'})")
    else:
        grid.add_row("gpu", f"[dim]none — {esc(nvml['message'])}[/]")
    grid.add_row("board", esc(board["model"]) if board["model"] else "[dim]none detected[/]")
    if fpga["present"]:
        managers = ", ".join(f"{x['device']}: {x['name']} ({x['state']})" for x in fpga["managers"])
        grid.add_row("fpga", esc(managers or "/dev/xdevcfg") +
                     (f" · PYNQ board {esc(fpga['pynq_board'])}" if fpga["pynq_board"] else ""))
    else:
        grid.add_row("fpga", "[dim]none detected[/]")
    declared = m["declared"]
    grid.add_row("declared", f"{esc(declared['class'])} {esc(declared['name'])} "
                             f"[dim]({esc(declared['path'])})[/]" if declared else
                 "[dim]none (for undetectable boards: .mltrack/hardware.toml)[/]")
    grid.add_row("classes", ", ".join(m["classes"]))
    cal = report["calibration"]
    if cal:
        noisy = "" if cal.get("valid", True) else " [yellow](noisy: the machine was busy)[/]"
        when = f" [dim]stored {report['calibrated_at'][:19]}[/]" if report["calibrated_at"] else ""
        grid.add_row("calibration",
                     f"score [bold]{cal['score']:.2f}[/] · compute {cal['compute_gflops']:.1f} "
                     f"GFLOP/s (1 core, float64 matmul) · memory {cal['memory_gbps']:.1f} GB/s "
                     f"(copy){noisy}{when}")
    else:
        grid.add_row("calibration", "[dim]not run (mltrack hw without --no-calibrate)[/]")
    render.console.print(grid)
    if not in_course:
        render.console.print("[dim]not stored: no mltrack course here[/]")


def benchmarks_table(benchmarks: dict[str, list[dict[str, Any]]]):
    """The newest benchmark figures per day (tracker.benchmarks.latest_by_day)."""
    from rich.table import Table

    from graders.bench import fmt_s

    table = Table(title="latest benchmarks", title_justify="left", show_edge=False)
    for col in ("day", "benchmark", "value", "95% CI", "target", "verdict", "hardware"):
        table.add_column(col)
    for day, rows in benchmarks.items():
        for b in rows:
            if b["unit"] == "s":
                value = fmt_s(b["value"])
                ci = f"{fmt_s(b['low'])}–{fmt_s(b['high'])}" if b["low"] is not None else "—"
            else:
                value = f"{b['value']:.3g}×"
                ci = f"{b['low']:.3g}–{b['high']:.3g}" if b["low"] is not None else "—"
            verdict = b["verdict"] or ("recorded" if b["valid"] else "noisy")
            colour = {"PASS": "green", "FAIL": "red", "INCONCLUSIVE": "yellow"}.get(
                b["verdict"], "dim")
            table.add_row(day, render.escape(b["name"]), value, ci,
                          render.escape(b["target"] or "—"), f"[{colour}]{verdict}[/]",
                          b["hw_class"])
    return table
