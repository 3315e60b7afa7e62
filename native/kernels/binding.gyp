{
  "targets": [
    {
      "target_name": "kernels",
      "sources": ["kernels.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-deprecated-declarations"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O2", "-Wno-deprecated-declarations"] }
    }
  ]
}
