{
  "targets": [
    {
      "target_name": "oao_native",
      "sources": ["addon.c"],
      "cflags": ["-O3", "-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-function", "-fno-strict-aliasing"],
      "cflags!": ["-O2"],
      "libraries": ["-lpthread"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-std=gnu11"] }
    }
  ]
}
