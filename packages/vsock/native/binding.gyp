{
  "targets": [
    {
      "target_name": "vsock",
      "sources": ["vsock.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Werror"],
      "ldflags": ["-Wl,--as-needed"]
    }
  ]
}
