"""Per-child seccomp filter of the dag-guard sandbox (imported by the harness parent, installed by each child).

Each per-file child installs this classic-BPF filter on itself *before* any repository code runs. The decisive
behaviours then end the child with SIGSYS (SECCOMP_RET_KILL_PROCESS): Python code cannot catch, ignore or undo that,
and the harness parent sees it in the child's wait status. No libseccomp needed: the program is built here and
installed with prctl(PR_SET_SECCOMP) through ctypes. Only the architectures listed in ARCHES are supported; on any
other the child refuses to run (fail closed).

Killed (the behaviour class in brackets is what the parent reports):
  socket(AF_INET | AF_INET6 | AF_PACKET | AF_NETLINK)               [network]
  execve, execveat                                                  [exec]
  fork, vfork, clone without CLONE_THREAD, clone with CLONE_NEW*    [process creation / namespaces]
  ptrace, process_vm_readv/writev, pidfd_open/send_signal/getfd     [another process's memory or signals]
  mount, umount2, the new mount API, unshare, setns                 [namespaces / mounts]
  bpf, keyctl, add_key, request_key, userfaultfd, io_uring_*, perf_event_open, kexec/modules
clone3 answers ENOSYS (its flags live in memory BPF cannot read); glibc then falls back to clone(2), which is checked.
"""

import ctypes
import os
import platform
import struct

# struct sock_filter opcodes
BPF_LD_W_ABS = 0x20
BPF_JEQ_K = 0x15
BPF_JGE_K = 0x35
BPF_JSET_K = 0x45
BPF_RET_K = 0x06

RET_KILL_PROCESS = 0x80000000
RET_ERRNO = 0x00050000
RET_ALLOW = 0x7FFF0000
ENOSYS = 38

AF_INET, AF_INET6, AF_NETLINK, AF_PACKET = 2, 10, 16, 17
CLONE_THREAD = 0x00010000
CLONE_NEW_ANY = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x00000080

# offsets in struct seccomp_data
OFF_NR, OFF_ARCH, OFF_ARG0_LO = 0, 4, 16

_COMMON_KILL = ("execve", "execveat", "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_open",
                "pidfd_send_signal", "pidfd_getfd", "mount", "umount2", "unshare", "setns", "bpf", "keyctl", "add_key",
                "request_key", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
                "perf_event_open", "kexec_load", "init_module", "finit_module", "open_tree", "move_mount", "fsopen",
                "fsconfig", "fsmount", "fspick", "fork", "vfork")

ARCHES = {
    "x86_64": {
        "audit": 0xC000003E,
        "x32_bit": 0x40000000,
        "nr": {"socket": 41, "clone": 56, "fork": 57, "vfork": 58, "execve": 59, "ptrace": 101, "mount": 165,
               "umount2": 166, "kexec_load": 246, "add_key": 248, "request_key": 249, "keyctl": 250, "unshare": 272,
               "perf_event_open": 298, "setns": 308, "process_vm_readv": 310, "process_vm_writev": 311,
               "finit_module": 313, "init_module": 175, "bpf": 321, "execveat": 322, "userfaultfd": 323,
               "pidfd_send_signal": 424, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
               "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
               "pidfd_open": 434, "clone3": 435, "pidfd_getfd": 438},
    },
    "aarch64": {
        "audit": 0xC00000B7,
        "x32_bit": None,
        "nr": {"socket": 198, "clone": 220, "execve": 221, "ptrace": 117, "mount": 40, "umount2": 39,
               "kexec_load": 104, "add_key": 217, "request_key": 218, "keyctl": 219, "unshare": 97,
               "perf_event_open": 241, "setns": 268, "process_vm_readv": 270, "process_vm_writev": 271,
               "finit_module": 273, "init_module": 105, "bpf": 280, "execveat": 281, "userfaultfd": 282,
               "pidfd_send_signal": 424, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
               "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
               "pidfd_open": 434, "clone3": 435, "pidfd_getfd": 438},
    },
}


def _ins(code, k, jt=0, jf=0):
    return struct.pack("HBBI", code, jt, jf, k)


def build_program(machine=None):
    """The filter for this machine as a list of packed sock_filter instructions, or None if unsupported."""
    arch = ARCHES.get(machine or platform.machine())
    if arch is None:
        return None
    nr = arch["nr"]
    prog = [_ins(BPF_LD_W_ABS, OFF_ARCH), _ins(BPF_JEQ_K, arch["audit"], 1, 0), _ins(BPF_RET_K, RET_KILL_PROCESS),
            _ins(BPF_LD_W_ABS, OFF_NR)]
    if arch["x32_bit"]:  # x32 ABI numbers alias the x86_64 ones with this bit set: refuse them all
        prog += [_ins(BPF_JGE_K, arch["x32_bit"], 0, 1), _ins(BPF_RET_K, RET_KILL_PROCESS)]
    for name in _COMMON_KILL:
        if name in nr:
            prog += [_ins(BPF_JEQ_K, nr[name], 0, 1), _ins(BPF_RET_K, RET_KILL_PROCESS)]
    prog += [_ins(BPF_JEQ_K, nr["clone3"], 0, 1), _ins(BPF_RET_K, RET_ERRNO | ENOSYS)]
    # clone(flags, ...): a thread (CLONE_THREAD) without any CLONE_NEW* flag is the only allowed form
    prog += [
        _ins(BPF_JEQ_K, nr["clone"], 0, 6),
        _ins(BPF_LD_W_ABS, OFF_ARG0_LO),
        _ins(BPF_JSET_K, CLONE_THREAD, 1, 0),
        _ins(BPF_RET_K, RET_KILL_PROCESS),
        _ins(BPF_JSET_K, CLONE_NEW_ANY, 0, 1),
        _ins(BPF_RET_K, RET_KILL_PROCESS),
        _ins(BPF_RET_K, RET_ALLOW),
    ]
    # socket(domain, ...)
    prog += [
        _ins(BPF_JEQ_K, nr["socket"], 0, 6),
        _ins(BPF_LD_W_ABS, OFF_ARG0_LO),
        _ins(BPF_JEQ_K, AF_INET, 3, 0),
        _ins(BPF_JEQ_K, AF_INET6, 2, 0),
        _ins(BPF_JEQ_K, AF_NETLINK, 1, 0),
        _ins(BPF_JEQ_K, AF_PACKET, 0, 1),
        _ins(BPF_RET_K, RET_KILL_PROCESS),
    ]
    prog.append(_ins(BPF_RET_K, RET_ALLOW))
    return prog


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2


def prepare():
    """Build everything that needs allocation once, in the parent; the child only calls install(prepared)."""
    prog = build_program()
    if prog is None:
        return None
    blob = b"".join(prog)
    buf = ctypes.create_string_buffer(blob, len(blob))
    fprog = _SockFprog(len(prog), ctypes.cast(buf, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    prctl = libc.prctl
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return (prctl, buf, fprog)


def install(prepared):
    """Install the filter on the calling (single-threaded) process. Raises OSError when the kernel refuses."""
    if prepared is None:
        raise OSError("dag-guard: no seccomp filter for architecture %s" % platform.machine())
    prctl, _buf, fprog = prepared
    if prctl(PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    if prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP)")
