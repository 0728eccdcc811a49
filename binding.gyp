{
  "targets": [
    {
      "target_name": "phyr",
      "sources": ["<!@(node addon/sources.js --gyp)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "."],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++20", "-O2", "-Wall", "-Wextra", "-fexceptions", "-march=x86-64-v2"],
      "cflags": ["-Wall", "-Wextra"]
    },
    {
      "target_name": "phyr_fio",
      "type": "loadable_module",
      "product_extension": "so",
      "sources": [
        "bench/fio-engine/engine.cc",
        "bench/fio-engine/serve_link.cc",
        "addon/channel/unix_channel.cc",
        "drivers/nvme/native/queue_pair.cc",
        "drivers/nvme/native/dptr_policy.cc",
        "drivers/nvme/native/prp.cc",
        "drivers/nvme/native/sgl.cc"
      ],
      "include_dirs": ["."],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++20", "-O2", "-Wall", "-Wextra", "-fexceptions", "-march=x86-64-v2", "-fvisibility=hidden"],
      "cflags": ["-Wall", "-Wextra"]
    }
  ]
}
