"""What this machine is: detection, hardware classes, calibration.

    hardware.detect     detect() -> Machine; snapshot() (plain data, for the faces);
                        available(feature) for graders' requires.hardware
    hardware.cpu        CPU and memory (psutil, /proc/cpuinfo)
    hardware.nvidia     NVIDIA GPUs through NVML (pynvml imported only when probing)
    hardware.boards     Raspberry Pi / Jetson (device tree), Zynq FPGA boards (FPGA manager)
    hardware.declared   a board declared in .mltrack/hardware.toml
    hardware.classes    the classes in hardware/classes/*.toml, matched against the facts
    hardware.calibrate  the reference workload behind the calibration score

Importing this package imports none of them.
"""
