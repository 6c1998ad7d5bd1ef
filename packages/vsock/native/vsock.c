// AF_VSOCK sockets for Node: the system calls plus libuv readiness.
//
// Node cannot wrap an AF_VSOCK descriptor in net.Socket, so this addon owns
// the descriptor and reports readiness through a uv_poll handle on Node's own
// loop (no thread per connection, no CPU while idle). Every socket is
// non-blocking; the stream logic lives in TypeScript (src/vsock-socket.ts).
//
// A socket is a napi external holding a `vsock_handle`. The memory is shared
// by the external (freed by the GC) and the uv_poll handle (freed by
// uv_close), so it is released when both are done with it.
#define _GNU_SOURCE  // accept4
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

// Longest run of buffers sent in one sendmsg call.
#define MAX_IOV 64
// Most bytes taken by one read (a stack buffer: no allocation when nothing is there).
#define READ_MAX (64 * 1024)

typedef struct vsock_handle vsock_handle;

// Per Node environment (main thread or worker). When a worker ends, Node
// unloads the addon after its cleanup hooks: every handle must be closed and
// every uv_close callback (code in this file) must have run by then, so an
// async cleanup hook closes what is open and finishes after the last callback.
typedef struct {
  vsock_handle* open;  // handles not closed yet
  int closing;         // uv_close callbacks still to come
  int finalized;       // the environment dropped its instance data
  napi_async_cleanup_hook_handle cleanup;  // set while the cleanup hook waits
} vsock_env;

static void maybe_free_env(vsock_env* e) {
  if (e->finalized && e->open == NULL && e->closing == 0) free(e);
}

struct vsock_handle {
  uv_poll_t poll;
  napi_env env;
  vsock_env* owner;
  vsock_handle* prev;  // in owner->open while not closed
  vsock_handle* next;
  napi_ref callback;
  napi_async_context async_context;
  int fd;
  int events;
  int closed;      // close() ran: descriptor closed, poll handle closing
  int in_callback; // inside the JS callback: its async context must outlive it
  int poll_freed;  // uv_close callback ran (or the poll was never initialised)
  int finalized;   // the external was garbage collected
};

static napi_value throw_errno(napi_env env, int err, const char* syscall) {
  napi_value code, message, error, errno_value, syscall_value;
  char text[160];
  snprintf(text, sizeof text, "%s %s: %s", syscall, uv_err_name(-err), uv_strerror(-err));
  napi_create_string_utf8(env, uv_err_name(-err), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_create_int32(env, -err, &errno_value);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_value);
  napi_set_named_property(env, error, "errno", errno_value);
  napi_set_named_property(env, error, "syscall", syscall_value);
  napi_throw(env, error);
  return NULL;
}

static napi_value make_errno_error(napi_env env, int err, const char* syscall) {
  napi_value error;
  throw_errno(env, err, syscall);
  napi_get_and_clear_last_exception(env, &error);
  return error;
}

static void maybe_free(vsock_handle* h) {
  if (h->poll_freed && h->finalized) free(h);
}

static void on_poll_closed(uv_handle_t* handle) {
  vsock_handle* h = (vsock_handle*)handle->data;
  vsock_env* e = h->owner;
  h->poll_freed = 1;
  maybe_free(h);
  e->closing--;
  if (e->closing == 0 && e->cleanup != NULL) {
    napi_remove_async_cleanup_hook(e->cleanup);
    e->cleanup = NULL;
  }
  maybe_free_env(e);
}

static void release_callback(vsock_handle* h) {
  if (h->callback != NULL) {
    napi_delete_reference(h->env, h->callback);
    h->callback = NULL;
  }
  if (h->async_context != NULL) {
    napi_async_destroy(h->env, h->async_context);
    h->async_context = NULL;
  }
}

static void unlink_handle(vsock_handle* h) {
  if (h->prev != NULL) {
    h->prev->next = h->next;
  } else {
    h->owner->open = h->next;
  }
  if (h->next != NULL) h->next->prev = h->prev;
  h->prev = h->next = NULL;
}

// Stops polling and closes the descriptor. The poll is stopped (which removes
// the descriptor from epoll) before close(), so a reused descriptor number can
// never be watched by this handle.
static void close_handle(vsock_handle* h) {
  if (h->closed) return;
  h->closed = 1;
  unlink_handle(h);
  h->owner->closing++;
  uv_close((uv_handle_t*)&h->poll, on_poll_closed);
  close(h->fd);
  h->fd = -1;
  if (!h->in_callback) release_callback(h);
}

static void finalize_handle(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  vsock_handle* h = (vsock_handle*)data;
  h->finalized = 1;
  close_handle(h);
  maybe_free(h);
}

// Wraps a fresh descriptor; on failure the descriptor is closed and NULL
// returned with a pending exception.
static napi_value wrap_fd(napi_env env, int fd) {
  uv_loop_t* loop;
  napi_value external;
  vsock_handle* h = calloc(1, sizeof *h);
  if (h == NULL) {
    close(fd);
    return throw_errno(env, ENOMEM, "malloc");
  }
  h->env = env;
  h->fd = fd;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok ||
      napi_get_instance_data(env, (void**)&h->owner) != napi_ok || h->owner == NULL) {
    close(fd);
    free(h);
    napi_throw_error(env, NULL, "vsock: no libuv loop");
    return NULL;
  }
  int rc = uv_poll_init_socket(loop, &h->poll, fd);
  if (rc != 0) {
    close(fd);
    free(h);
    return throw_errno(env, -rc, "uv_poll_init");
  }
  h->poll.data = h;
  h->next = h->owner->open;
  if (h->next != NULL) h->next->prev = h;
  h->owner->open = h;
  if (napi_create_external(env, h, finalize_handle, NULL, &external) != napi_ok) {
    close_handle(h);
    h->finalized = 1;
    return NULL;
  }
  return external;
}

// --- argument helpers -------------------------------------------------------

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value* argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  if (argc < want) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "vsock: missing arguments");
    return 0;
  }
  return 1;
}

static int get_uint32(napi_env env, napi_value value, uint32_t* out, const char* name) {
  if (napi_get_value_uint32(env, value, out) != napi_ok) {
    char text[96];
    snprintf(text, sizeof text, "vsock: %s must be a number", name);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", text);
    return 0;
  }
  return 1;
}

// Returns the open handle behind an external, or NULL with a pending exception.
static vsock_handle* get_handle(napi_env env, napi_value value) {
  void* data = NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "vsock: not a vsock handle");
    return NULL;
  }
  vsock_handle* h = (vsock_handle*)data;
  if (h->closed) {
    throw_errno(env, EBADF, "vsock");
    return NULL;
  }
  return h;
}

static napi_value make_address(napi_env env, const struct sockaddr_vm* addr) {
  napi_value object, cid, port;
  napi_create_object(env, &object);
  napi_create_uint32(env, addr->svm_cid, &cid);
  napi_create_uint32(env, addr->svm_port, &port);
  napi_set_named_property(env, object, "cid", cid);
  napi_set_named_property(env, object, "port", port);
  return object;
}

static void fill_address(struct sockaddr_vm* addr, uint32_t cid, uint32_t port) {
  memset(addr, 0, sizeof *addr);
  addr->svm_family = AF_VSOCK;
  addr->svm_cid = cid;
  addr->svm_port = port;
}

static int new_socket(void) {
  return socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

// --- exported functions -----------------------------------------------------

// listen(cid, port, backlog) -> handle
static napi_value js_listen(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  uint32_t cid, port, backlog;
  struct sockaddr_vm addr;
  if (!get_args(env, info, 3, argv) || !get_uint32(env, argv[0], &cid, "cid") ||
      !get_uint32(env, argv[1], &port, "port") || !get_uint32(env, argv[2], &backlog, "backlog")) {
    return NULL;
  }
  int fd = new_socket();
  if (fd < 0) return throw_errno(env, errno, "socket");
  fill_address(&addr, cid, port);
  if (bind(fd, (struct sockaddr*)&addr, sizeof addr) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "bind");
  }
  if (listen(fd, (int)backlog) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "listen");
  }
  return wrap_fd(env, fd);
}

// connect(cid, port, timeoutMs) -> handle, connecting in the background: the
// caller waits for writability and then reads socketError(). timeoutMs 0
// keeps the kernel's default connect timeout.
static napi_value js_connect(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  uint32_t cid, port, timeout_ms;
  struct sockaddr_vm addr;
  if (!get_args(env, info, 3, argv) || !get_uint32(env, argv[0], &cid, "cid") ||
      !get_uint32(env, argv[1], &port, "port") ||
      !get_uint32(env, argv[2], &timeout_ms, "timeoutMs")) {
    return NULL;
  }
  int fd = new_socket();
  if (fd < 0) return throw_errno(env, errno, "socket");
  if (timeout_ms > 0) {
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    if (setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, &tv, sizeof tv) != 0) {
      int err = errno;
      close(fd);
      return throw_errno(env, err, "setsockopt");
    }
  }
  fill_address(&addr, cid, port);
  if (connect(fd, (struct sockaddr*)&addr, sizeof addr) != 0 && errno != EINPROGRESS) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "connect");
  }
  return wrap_fd(env, fd);
}

// accept(listenHandle) -> { handle, cid, port } | null when none is pending
static napi_value js_accept(napi_env env, napi_callback_info info) {
  napi_value argv[1], result, handle;
  struct sockaddr_vm addr;
  socklen_t len = sizeof addr;
  if (!get_args(env, info, 1, argv)) return NULL;
  vsock_handle* h = get_handle(env, argv[0]);
  if (h == NULL) return NULL;
  int fd;
  do {
    fd = accept4(h->fd, (struct sockaddr*)&addr, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    // ECONNABORTED: the peer gave up before we took it; nothing to hand out.
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED) {
      napi_get_null(env, &result);
      return result;
    }
    return throw_errno(env, errno, "accept");
  }
  handle = wrap_fd(env, fd);
  if (handle == NULL) return NULL;
  result = make_address(env, &addr);
  napi_set_named_property(env, result, "handle", handle);
  return result;
}

static napi_value address_of(napi_env env, napi_callback_info info, int peer) {
  napi_value argv[1];
  struct sockaddr_vm addr;
  socklen_t len = sizeof addr;
  if (!get_args(env, info, 1, argv)) return NULL;
  vsock_handle* h = get_handle(env, argv[0]);
  if (h == NULL) return NULL;
  int rc = peer ? getpeername(h->fd, (struct sockaddr*)&addr, &len)
                : getsockname(h->fd, (struct sockaddr*)&addr, &len);
  if (rc != 0) return throw_errno(env, errno, peer ? "getpeername" : "getsockname");
  return make_address(env, &addr);
}

// localAddress(handle) -> { cid, port }
static napi_value js_local_address(napi_env env, napi_callback_info info) {
  return address_of(env, info, 0);
}

// remoteAddress(handle) -> { cid, port }
static napi_value js_remote_address(napi_env env, napi_callback_info info) {
  return address_of(env, info, 1);
}

// socketError(handle, syscall) -> Error | null: the pending error (SO_ERROR).
static napi_value js_socket_error(napi_env env, napi_callback_info info) {
  napi_value argv[2], result;
  char syscall[32];
  size_t syscall_len;
  int err = 0;
  socklen_t len = sizeof err;
  if (!get_args(env, info, 2, argv)) return NULL;
  vsock_handle* h = get_handle(env, argv[0]);
  if (h == NULL) return NULL;
  if (napi_get_value_string_utf8(env, argv[1], syscall, sizeof syscall, &syscall_len) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "vsock: syscall must be a string");
    return NULL;
  }
  if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err == 0) {
    napi_get_null(env, &result);
    return result;
  }
  return make_errno_error(env, err, syscall);
}

static void on_poll(uv_poll_t* poll, int status, int events) {
  vsock_handle* h = (vsock_handle*)poll->data;
  napi_env env = h->env;
  napi_handle_scope scope;
  napi_value callback, global, argv[2], result;
  if (h->closed || h->callback == NULL) return;
  napi_open_handle_scope(env, &scope);
  if (status < 0) {
    // libuv reports a failed socket as a poll error (often EBADF) and stops
    // polling; the socket's own error says what really happened.
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err == 0) err = -status;
    argv[0] = make_errno_error(env, err, "poll");
    h->events = 0;
  } else {
    napi_get_null(env, &argv[0]);
  }
  napi_create_int32(env, events, &argv[1]);
  napi_get_reference_value(env, h->callback, &callback);
  napi_get_global(env, &global);
  // make_callback (not call_function) so nextTicks and promise jobs queued by
  // the callback run before the loop goes back to polling.
  h->in_callback = 1;
  napi_status status_of_call =
      napi_make_callback(env, h->async_context, global, callback, 2, argv, &result);
  h->in_callback = 0;
  if (h->closed) release_callback(h);
  if (status_of_call == napi_pending_exception) {
    napi_value exception;
    napi_get_and_clear_last_exception(env, &exception);
    napi_fatal_exception(env, exception);
  }
  napi_close_handle_scope(env, scope);
}

// watch(handle, callback(error, events)): the function readiness is reported to.
static napi_value js_watch(napi_env env, napi_callback_info info) {
  napi_value argv[2], resource, name;
  napi_valuetype type;
  if (!get_args(env, info, 2, argv)) return NULL;
  vsock_handle* h = get_handle(env, argv[0]);
  if (h == NULL) return NULL;
  if (napi_typeof(env, argv[1], &type) != napi_ok || type != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "vsock: callback must be a function");
    return NULL;
  }
  if (h->callback != NULL) {
    napi_throw_error(env, "ERR_INVALID_STATE", "vsock: handle is already watched");
    return NULL;
  }
  napi_create_object(env, &resource);
  napi_create_string_utf8(env, "VSOCK", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, resource, name, &h->async_context);
  napi_create_reference(env, argv[1], 1, &h->callback);
  return NULL;
}

// setEvents(handle, events): UV_READABLE | UV_WRITABLE bits to wait for; 0 stops.
static napi_value js_set_events(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  uint32_t events;
  if (!get_args(env, info, 2, argv)) return NULL;
  vsock_handle* h = get_handle(env, argv[0]);
  if (h == NULL || !get_uint32(env, argv[1], &events, "events")) return NULL;
  events &= UV_READABLE | UV_WRITABLE;
  if ((int)events == h->events) return NULL;
  if (h->callback == NULL) {
    napi_throw_error(env, "ERR_INVALID_STATE", "vsock: handle is not watched");
    return NULL;
  }
  int rc = events == 0 ? uv_poll_stop(&h->poll) : uv_poll_start(&h->poll, (int)events, on_poll);
  if (rc != 0) return throw_errno(env, -rc, "uv_poll_start");
  h->events = (int)events;
  return NULL;
}

// setRef(handle, bool): whether this socket keeps the event loop alive.
static napi_value js_set_ref(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  bool ref;
  if (!get_args(env, info, 2, argv)) return NULL;
  vsock_handle* h = get_handle(env, argv[0]);
  if (h == NULL) return NULL;
  if (napi_get_value_bool(env, argv[1], &ref) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "vsock: ref must be a boolean");
    return NULL;
  }
  if (ref) {
    uv_ref((uv_handle_t*)&h->poll);
  } else {
    uv_unref((uv_handle_t*)&h->poll);
  }
  return NULL;
}

// read(handle, maxBytes) -> Buffer (data), null (end of stream) or
// undefined (nothing available now). At most READ_MAX bytes per call.
static napi_value js_read(napi_env env, napi_callback_info info) {
  napi_value argv[2], result;
  uint32_t max;
  char data[READ_MAX];
  if (!get_args(env, info, 2, argv)) return NULL;
  vsock_handle* h = get_handle(env, argv[0]);
  if (h == NULL || !get_uint32(env, argv[1], &max, "maxBytes")) return NULL;
  if (max == 0 || max > READ_MAX) max = READ_MAX;
  ssize_t n;
  do {
    n = read(h->fd, data, max);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) return throw_errno(env, errno, "read");
    napi_get_undefined(env, &result);
    return result;
  }
  if (n == 0) {
    napi_get_null(env, &result);
    return result;
  }
  if (napi_create_buffer_copy(env, (size_t)n, data, NULL, &result) != napi_ok) return NULL;
  return result;
}

// write(handle, buffers[]) -> bytes sent (0 when the socket cannot take more now)
static napi_value js_write(napi_env env, napi_callback_info info) {
  napi_value argv[2], result;
  uint32_t count;
  bool is_array;
  struct iovec iov[MAX_IOV];
  if (!get_args(env, info, 2, argv)) return NULL;
  vsock_handle* h = get_handle(env, argv[0]);
  if (h == NULL) return NULL;
  if (napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "vsock: buffers must be an array");
    return NULL;
  }
  napi_get_array_length(env, argv[1], &count);
  if (count > MAX_IOV) count = MAX_IOV;
  for (uint32_t i = 0; i < count; i++) {
    napi_value element;
    void* data;
    size_t length;
    napi_get_element(env, argv[1], i, &element);
    if (napi_get_buffer_info(env, element, &data, &length) != napi_ok) {
      napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "vsock: buffers must hold Buffers");
      return NULL;
    }
    iov[i].iov_base = data;
    iov[i].iov_len = length;
  }
  struct msghdr msg = {.msg_iov = iov, .msg_iovlen = count};
  ssize_t n;
  do {
    n = sendmsg(h->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) return throw_errno(env, errno, "write");
    n = 0;
  }
  napi_create_double(env, (double)n, &result);
  return result;
}

// shutdown(handle): no more writes from this side (the peer reads EOF).
static napi_value js_shutdown(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  vsock_handle* h = get_handle(env, argv[0]);
  if (h == NULL) return NULL;
  if (shutdown(h->fd, SHUT_WR) != 0) return throw_errno(env, errno, "shutdown");
  return NULL;
}

// close(handle): stop polling and close the descriptor; idempotent.
static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  void* data = NULL;
  if (!get_args(env, info, 1, argv)) return NULL;
  if (napi_get_value_external(env, argv[0], &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "vsock: not a vsock handle");
    return NULL;
  }
  close_handle((vsock_handle*)data);
  return NULL;
}

static void close_all(napi_async_cleanup_hook_handle hook, void* data) {
  vsock_env* e = (vsock_env*)data;
  while (e->open != NULL) close_handle(e->open);
  if (e->closing == 0) {
    napi_remove_async_cleanup_hook(hook);
  } else {
    e->cleanup = hook;
  }
}

static void finalize_env(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  vsock_env* e = (vsock_env*)data;
  e->finalized = 1;
  maybe_free_env(e);
}

static napi_value init(napi_env env, napi_value exports) {
  vsock_env* e = calloc(1, sizeof *e);
  if (e == NULL || napi_set_instance_data(env, e, finalize_env, NULL) != napi_ok ||
      napi_add_async_cleanup_hook(env, close_all, e, NULL) != napi_ok) {
    napi_throw_error(env, NULL, "vsock: cannot set up per-environment state");
    return NULL;
  }
  struct {
    const char* name;
    napi_callback fn;
  } functions[] = {
      {"listen", js_listen},
      {"connect", js_connect},
      {"accept", js_accept},
      {"localAddress", js_local_address},
      {"remoteAddress", js_remote_address},
      {"socketError", js_socket_error},
      {"watch", js_watch},
      {"setEvents", js_set_events},
      {"setRef", js_set_ref},
      {"read", js_read},
      {"write", js_write},
      {"shutdown", js_shutdown},
      {"close", js_close},
  };
  for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
    napi_value fn;
    napi_create_function(env, functions[i].name, NAPI_AUTO_LENGTH, functions[i].fn, NULL, &fn);
    napi_set_named_property(env, exports, functions[i].name, fn);
  }
  napi_value readable, writable;
  napi_create_int32(env, UV_READABLE, &readable);
  napi_create_int32(env, UV_WRITABLE, &writable);
  napi_set_named_property(env, exports, "READABLE", readable);
  napi_set_named_property(env, exports, "WRITABLE", writable);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
