# SPDX-License-Identifier: MIT
"""A small ctypes wrapper of libebcc for the tests, written as a binding author would.

The library is the one named by $EBCC_LIBRARY (meson sets it to the just-built .so).
Every failing call raises EbccError carrying ebcc_error_name() and ebcc_last_error_message().
"""
import ctypes
import json
import os

_lib = ctypes.CDLL(os.environ.get("EBCC_LIBRARY", "libebcc.so.0"), use_errno=True)

c_char_pp = ctypes.POINTER(ctypes.c_char_p)
LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)


def _declare(name, restype, *argtypes):
    fn = getattr(_lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn


_declare("ebcc_version", ctypes.c_uint32)
_declare("ebcc_version_string", ctypes.c_char_p)
_declare("ebcc_strerror", ctypes.c_char_p, ctypes.c_int)
_declare("ebcc_error_name", ctypes.c_char_p, ctypes.c_int)
_declare("ebcc_last_error_message", ctypes.c_char_p)
_declare("ebcc_free", None, ctypes.c_void_p)
_declare("ebcc_context_new", ctypes.c_int, ctypes.POINTER(ctypes.c_void_p))
_declare("ebcc_context_ref", ctypes.c_void_p, ctypes.c_void_p)
_declare("ebcc_context_unref", ctypes.c_void_p, ctypes.c_void_p)
_declare("ebcc_context_set_option", ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p,
         ctypes.c_char_p)
_declare("ebcc_context_get_option", ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p,
         ctypes.POINTER(ctypes.c_void_p))
_declare("ebcc_context_set_log_fn", ctypes.c_int, ctypes.c_void_p, LOG_FN, ctypes.c_void_p)


class ContextOptions(ctypes.Structure):
    """struct ebcc_context_options; size set to what this binding knows."""
    _fields_ = [("size", ctypes.c_uint32), ("flags", ctypes.c_uint32), ("log_fn", LOG_FN),
                ("log_userdata", ctypes.c_void_p), ("settings", c_char_pp)]


class VerifyOptions(ctypes.Structure):
    """struct ebcc_verify_options; size set to what this binding knows."""
    _fields_ = [("size", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("policy", ctypes.c_void_p), ("policy_json", ctypes.c_char_p)]

    def __init__(self, policy_json=None):
        super().__init__(size=ctypes.sizeof(VerifyOptions), policy_json=policy_json)


_declare("ebcc_context_new_with", ctypes.c_int, ctypes.POINTER(ContextOptions),
         ctypes.POINTER(ctypes.c_void_p))

lib = _lib


def error_codes():
    """{name: code} for every defined error, found without the header's macros."""
    codes = {"EBCC_OK": 0}
    code = -1
    while True:
        name = _lib.ebcc_error_name(code).decode()
        if name == "EBCC_ERR_UNKNOWN":
            return codes
        codes[name] = code
        code -= 1


class EbccError(Exception):
    def __init__(self, code, message):
        self.code = code
        self.name = _lib.ebcc_error_name(code).decode()
        self.message = message
        super().__init__(f"{self.name}: {message}")


def check(result):
    if result < 0:
        raise EbccError(result, _lib.ebcc_last_error_message().decode(errors="replace"))
    return result


_declare("ebcc_constant", ctypes.c_int, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int64))


def constant(name):
    """The value of a libebcc macro, from the library rather than a copy of the header."""
    value = ctypes.c_int64()
    check(_lib.ebcc_constant(name.encode(), ctypes.byref(value)))
    return value.value


def take_string(ptr):
    """Copies a char * the library returned and frees it with ebcc_free()."""
    try:
        return ctypes.string_at(ptr.value).decode()
    finally:
        _lib.ebcc_free(ptr)


def version():
    return _lib.ebcc_version(), _lib.ebcc_version_string().decode()


class Context:
    def __init__(self, ignore_env=False, **options):
        """A context with options set at creation, all or nothing (ebcc_context_new_with)."""
        handle = ctypes.c_void_p()
        pairs = [str(x).encode() for kv in options.items() for x in kv]
        settings = (ctypes.c_char_p * (len(pairs) + 1))(*pairs, None)
        opts = ContextOptions(size=ctypes.sizeof(ContextOptions),
                              flags=constant("EBCC_CONTEXT_IGNORE_ENV") if ignore_env else 0,
                              settings=ctypes.cast(settings, c_char_pp))
        check(_lib.ebcc_context_new_with(ctypes.byref(opts), ctypes.byref(handle)))
        self.handle = handle
        self._log_fn = None

    def close(self):
        if self.handle:
            _lib.ebcc_context_unref(self.handle)
            self.handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def set_option(self, key, value):
        check(_lib.ebcc_context_set_option(self.handle, key.encode(), str(value).encode()))

    def get_option(self, key):
        out = ctypes.c_void_p()
        check(_lib.ebcc_context_get_option(self.handle, key.encode(), ctypes.byref(out)))
        return take_string(out)

    def set_log_fn(self, fn):
        """fn(priority, message) or None. The ctypes thunk is kept alive on the object."""
        self._log_fn = LOG_FN(lambda prio, msg, _ud: fn(prio, msg.decode())) if fn else None
        check(_lib.ebcc_context_set_log_fn(self.handle, self._log_fn or LOG_FN(), None))


# ---- composites -------------------------------------------------------------------------

STATUS_NAMES = {constant("EBCC_STATUS_" + name.upper()): name
                for name in ("creating", "created", "running", "stopped")}
DELETE_FORCE = constant("EBCC_DELETE_FORCE")

_declare("ebcc_instance_create", ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p,
         ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p))
_declare("ebcc_instance_open", ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p,
         ctypes.POINTER(ctypes.c_void_p))
_declare("ebcc_instance_ref", ctypes.c_void_p, ctypes.c_void_p)
_declare("ebcc_instance_unref", ctypes.c_void_p, ctypes.c_void_p)
_declare("ebcc_instance_start", ctypes.c_int, ctypes.c_void_p)
_declare("ebcc_instance_kill", ctypes.c_int, ctypes.c_void_p, ctypes.c_int)
_declare("ebcc_instance_wait", ctypes.c_int, ctypes.c_void_p, ctypes.c_int,
         ctypes.POINTER(ctypes.c_int))
_declare("ebcc_instance_delete", ctypes.c_int, ctypes.c_void_p, ctypes.c_uint32)
_declare("ebcc_instance_status", ctypes.c_int, ctypes.c_void_p)
_declare("ebcc_instance_state", ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p))
_declare("ebcc_instance_set_pid", ctypes.c_int, ctypes.c_void_p, ctypes.c_int)
_declare("ebcc_instance_list", ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p))


def _text(value):
    """Encodes a str for C, refusing embedded NUL bytes as C would silently truncate them."""
    data = value.encode() if isinstance(value, str) else bytes(value)
    if b"\0" in data:
        raise ValueError("embedded NUL byte")
    return data


class Instance:
    """A composite. create() and open() are the constructors."""

    def __init__(self, ctx, handle):
        self.ctx = ctx
        self.handle = handle

    @classmethod
    def create(cls, ctx, cid, bundle):
        handle = ctypes.c_void_p()
        check(_lib.ebcc_instance_create(ctx.handle, _text(cid), _text(bundle),
                                        ctypes.byref(handle)))
        return cls(ctx, handle)

    @classmethod
    def open(cls, ctx, cid):
        handle = ctypes.c_void_p()
        check(_lib.ebcc_instance_open(ctx.handle, _text(cid), ctypes.byref(handle)))
        return cls(ctx, handle)

    def close(self):
        if self.handle:
            _lib.ebcc_instance_unref(self.handle)
            self.handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def start(self):
        check(_lib.ebcc_instance_start(self.handle))

    def kill(self, signo):
        check(_lib.ebcc_instance_kill(self.handle, signo))

    def wait(self, timeout_ms=-1):
        status = ctypes.c_int()
        check(_lib.ebcc_instance_wait(self.handle, timeout_ms, ctypes.byref(status)))
        return status.value

    def delete(self, force=False):
        check(_lib.ebcc_instance_delete(self.handle, DELETE_FORCE if force else 0))

    def status(self):
        return STATUS_NAMES[check(_lib.ebcc_instance_status(self.handle))]

    def state(self):
        out = ctypes.c_void_p()
        check(_lib.ebcc_instance_state(self.handle, ctypes.byref(out)))
        return take_string(out)

    def set_pid(self, pid):
        check(_lib.ebcc_instance_set_pid(self.handle, pid))


def list_instances(ctx):
    out = ctypes.c_void_p()
    check(_lib.ebcc_instance_list(ctx.handle, ctypes.byref(out)))
    return take_string(out)


# ---- evidence -----------------------------------------------------------------------------

_declare("ebcc_evidence_parse", ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
         ctypes.POINTER(ctypes.c_void_p))
_declare("ebcc_evidence_serialize", ctypes.c_int, ctypes.c_void_p,
         ctypes.POINTER(ctypes.c_void_p))
_declare("ebcc_evidence_verify", ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p)
_declare("ebcc_evidence_verify_claims", ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p,
         ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p))
_declare("ebcc_evidence_get_text", ctypes.c_int, ctypes.c_void_p, ctypes.c_int,
         ctypes.POINTER(ctypes.c_char_p))
_declare("ebcc_evidence_get_u64", ctypes.c_int, ctypes.c_void_p, ctypes.c_int,
         ctypes.POINTER(ctypes.c_uint64))
_declare("ebcc_evidence_get_bytes", ctypes.c_int, ctypes.c_void_p, ctypes.c_int,
         ctypes.POINTER(ctypes.POINTER(ctypes.c_uint8)), ctypes.POINTER(ctypes.c_size_t))
_declare("ebcc_evidence_ref", ctypes.c_void_p, ctypes.c_void_p)
_declare("ebcc_evidence_unref", ctypes.c_void_p, ctypes.c_void_p)


class Evidence:
    """One evidence envelope (immutable). parse() is the constructor."""

    def __init__(self, handle):
        self.handle = handle

    @classmethod
    def parse(cls, ctx, data):
        """data: the envelope JSON as str or bytes (any bytes: the length is passed)."""
        data = data.encode() if isinstance(data, str) else bytes(data)
        handle = ctypes.c_void_p()
        check(_lib.ebcc_evidence_parse(ctx.handle, data, len(data), ctypes.byref(handle)))
        return cls(handle)

    def close(self):
        if self.handle:
            _lib.ebcc_evidence_unref(self.handle)
            self.handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def serialize(self):
        out = ctypes.c_void_p()
        check(_lib.ebcc_evidence_serialize(self.handle, ctypes.byref(out)))
        return take_string(out)

    def verify(self, ctx, policy=None):
        """policy: None, JSON text, or a dict (sent as JSON). Raises EbccError on failure."""
        if isinstance(policy, dict):
            policy = json.dumps(policy)
        check(_lib.ebcc_evidence_verify(ctx.handle, self.handle,
                                        None if policy is None else _text(policy)))

    def verify_claims(self, ctx, policy=None):
        """verify(), returning the claims (a dict: "evidence" and the "backend" verdict)."""
        if isinstance(policy, dict):
            policy = json.dumps(policy)
        out = ctypes.c_void_p()
        check(_lib.ebcc_evidence_verify_claims(ctx.handle, self.handle,
                                               None if policy is None else _text(policy),
                                               ctypes.byref(out)))
        return json.loads(take_string(out))

    def text(self, field):
        """A text field, field the name after EBCC_EVIDENCE_ ("stage") or its number."""
        out = ctypes.c_char_p()
        check(_lib.ebcc_evidence_get_text(self.handle, _field(field), ctypes.byref(out)))
        return out.value.decode()

    def number(self, field):
        out = ctypes.c_uint64()
        check(_lib.ebcc_evidence_get_u64(self.handle, _field(field), ctypes.byref(out)))
        return out.value

    def bytes(self, field):
        out, size = ctypes.POINTER(ctypes.c_uint8)(), ctypes.c_size_t()
        check(_lib.ebcc_evidence_get_bytes(self.handle, _field(field), ctypes.byref(out),
                                           ctypes.byref(size)))
        return ctypes.string_at(out, size.value)


_declare("ebcc_policy_new", ctypes.c_int, ctypes.POINTER(ctypes.c_void_p))
_declare("ebcc_policy_free", ctypes.c_void_p, ctypes.c_void_p)
_declare("ebcc_policy_add_trusted_key", ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p)
_declare("ebcc_policy_set_string", ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p)
_declare("ebcc_policy_set_bool", ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int)
_declare("ebcc_policy_set_backend_json", ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p,
         ctypes.c_char_p, ctypes.c_char_p)
_declare("ebcc_policy_set_backend_string", ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p,
         ctypes.c_char_p, ctypes.c_char_p)
_declare("ebcc_policy_to_json", ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p))


class Policy:
    """A verification policy built key by key (ebcc_policy_new(3))."""

    def __init__(self):
        self.handle = ctypes.c_void_p()
        check(_lib.ebcc_policy_new(ctypes.byref(self.handle)))

    def close(self):
        if self.handle:
            _lib.ebcc_policy_free(self.handle)
            self.handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def add_trusted_key(self, pem):
        check(_lib.ebcc_policy_add_trusted_key(self.handle, _text(pem)))

    def set_string(self, key, value):
        check(_lib.ebcc_policy_set_string(self.handle, _text(key), _text(value)))

    def set_bool(self, key, value):
        check(_lib.ebcc_policy_set_bool(self.handle, _text(key), 1 if value else 0))

    def set_backend_json(self, backend, key, value_json):
        check(_lib.ebcc_policy_set_backend_json(self.handle, _text(backend), _text(key),
                                                _text(value_json)))

    def set_backend_string(self, backend, key, value):
        check(_lib.ebcc_policy_set_backend_string(self.handle, _text(backend), _text(key),
                                                  _text(value)))

    def to_json(self):
        out = ctypes.c_void_p()
        check(_lib.ebcc_policy_to_json(self.handle, ctypes.byref(out)))
        return take_string(out)


def _field(field):
    return field if isinstance(field, int) else constant("EBCC_EVIDENCE_" + field.upper())


# ---- backends (include/ebcc/backend.h) ----------------------------------------------------

BACKEND_ABI_VERSION = 2
ISOLATION_ENCLAVE, ISOLATION_VM, ISOLATION_EMBEDDED = 1, 2, 3
BACKEND_SIMULATED, BACKEND_CONCURRENT_INVOKE, BACKEND_HOST_IN_TCB = 1 << 0, 1 << 1, 1 << 2

_declare("ebcc_backend_register", ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p,
         ctypes.c_void_p)
_declare("ebcc_backend_load", ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p)
_declare("ebcc_backend_count", ctypes.c_int, ctypes.c_void_p)
_declare("ebcc_backend_name", ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int)
_declare("ebcc_backend_probe", ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p,
         ctypes.POINTER(ctypes.c_void_p))
_declare("ebcc_backend_attestation_key", ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p,
         ctypes.POINTER(ctypes.c_void_p))


class BackendEnv(ctypes.Structure):
    """struct ebcc_backend_env: what the library hands to every backend callback."""
    _fields_ = [
        ("size", ctypes.c_uint32),
        ("durability", ctypes.c_uint32),
        ("alloc", ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p)),
        ("log", ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)),
        ("set_error", ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_void_p)),
        ("host", ctypes.c_void_p),
        ("data_dir_fd", ctypes.c_int),
        ("data_dir", ctypes.c_char_p),
        ("release", ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)),
    ]


_ENV_P = ctypes.POINTER(BackendEnv)
PROBE_FN = ctypes.CFUNCTYPE(ctypes.c_int, _ENV_P, ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p)
# The stage callbacks are declared with opaque pointers: a binding that does not implement
# them passes NULL-free stubs of these types.
STAGE_LOAD_FN = ctypes.CFUNCTYPE(ctypes.c_int, _ENV_P, ctypes.c_void_p, ctypes.c_void_p,
                                 ctypes.c_void_p)
STAGE_OPEN_FN = ctypes.CFUNCTYPE(ctypes.c_int, _ENV_P, ctypes.c_void_p, ctypes.c_uint64,
                                 ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p)
# stage_invoke(env, handle, binding, request, request_len, ret, userdata)
STAGE_INVOKE_FN = ctypes.CFUNCTYPE(ctypes.c_int, _ENV_P, ctypes.c_void_p, ctypes.c_void_p,
                                   ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p,
                                   ctypes.c_void_p)
STAGE_REPORT_FN = ctypes.CFUNCTYPE(ctypes.c_int, _ENV_P, ctypes.c_void_p, ctypes.c_void_p,
                                   ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p)
STAGE_CLOSE_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
STAGE_UNLOAD_FN = ctypes.CFUNCTYPE(ctypes.c_int, _ENV_P, ctypes.c_void_p, ctypes.c_void_p)
VERIFY_FN = ctypes.CFUNCTYPE(ctypes.c_int, _ENV_P, ctypes.c_void_p,
                             ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p)
KEY_FN = ctypes.CFUNCTYPE(ctypes.c_int, _ENV_P, ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p)
DESTROY_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


class BackendOps(ctypes.Structure):
    """struct ebcc_backend_ops, ABI version 2."""
    _fields_ = [
        ("size", ctypes.c_uint32),
        ("abi_version", ctypes.c_uint32),
        ("name", ctypes.c_char_p),
        ("isolation", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("evidence_format", ctypes.c_char_p),
        ("max_report_data", ctypes.c_uint32),
        ("reserved0", ctypes.c_uint32),
        ("probe", PROBE_FN),
        ("stage_load", STAGE_LOAD_FN),
        ("stage_open", STAGE_OPEN_FN),
        ("stage_invoke", STAGE_INVOKE_FN),
        ("stage_report", STAGE_REPORT_FN),
        ("stage_close", STAGE_CLOSE_FN),
        ("stage_unload", STAGE_UNLOAD_FN),
        ("verify_report", VERIFY_FN),
        ("attestation_key", KEY_FN),
        ("destroy", DESTROY_FN),
    ]


def env_string(env, text):
    """A copy of text in memory from env->alloc(), as a callback hands strings back."""
    data = text.encode()
    ptr = env.contents.alloc(len(data) + 1, env.contents.host)
    if ptr:
        ctypes.memmove(ptr, data + b"\0", len(data) + 1)
    return ptr


def backend_names(ctx):
    n = check(_lib.ebcc_backend_count(ctx.handle))
    return [_lib.ebcc_backend_name(ctx.handle, i).decode() for i in range(n)]


def backend_load(ctx, path):
    check(_lib.ebcc_backend_load(ctx.handle, str(path).encode()))


def backend_register(ctx, ops, userdata=None):
    """ops: a BackendOps whose callbacks the caller keeps alive as long as ctx."""
    check(_lib.ebcc_backend_register(ctx.handle, ctypes.byref(ops), userdata))


def backend_probe(ctx, name):
    out = ctypes.c_void_p()
    check(_lib.ebcc_backend_probe(ctx.handle, name.encode(), ctypes.byref(out)))
    return json.loads(take_string(out))


def backend_attestation_key(ctx, name):
    out = ctypes.c_void_p()
    check(_lib.ebcc_backend_attestation_key(ctx.handle, name.encode(), ctypes.byref(out)))
    return take_string(out)


# ---- raw hardware reports -----------------------------------------------------------------

_declare("ebcc_report_verify", ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
         ctypes.c_size_t, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p))


def report_verify(ctx, backend, data, policy=None):
    """The claims of a raw report (a dict); raises EbccError when it does not verify."""
    out = ctypes.c_void_p()
    text = json.dumps(policy).encode() if policy is not None else None
    check(_lib.ebcc_report_verify(ctx.handle, backend.encode(), data, len(data), text,
                                  ctypes.byref(out)))
    return json.loads(take_string(out))
