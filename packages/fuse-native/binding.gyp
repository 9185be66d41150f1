{
  "targets": [{
    "target_name": "fuse",
    "include_dirs": [
      "<!(node -e \"require('napi-macros')\")",
      "<!(node -e \"require('fuse-shared-library/include')\")",
    ],
    "libraries": [
      "<!(node -e \"require('fuse-shared-library/lib')\")",
    ],
    "sources": [
      "src/dispatch.c",
      "src/fastpath.c",
      "src/passthrough.c",
      "src/names.c",
      "src/creates.c",
      "src/spares.c",
      "src/setattrs.c",
      "src/requests.c"
    ],
    'xcode_settings': {
      'OTHER_CFLAGS': [
        '-g',
        '-O3',
        '-Wall', '-Wextra', '-Wunused-parameter', '-Werror'
      ]
    },
    # Every warning is an error. node's common.gypi turns -Wunused-parameter off (before these
    # flags, and a specific -Wno- outranks -Wextra), so it is named again.
    'cflags': [
      '-g',
      '-O3',
      '-Wall', '-Wextra', '-Wunused-parameter', '-Werror'
    ],
  }, {
    "target_name": "postinstall",
    "type": "none",
    "dependencies": ["fuse"],
    "copies": [{
      "destination": "build/Release",
      "files": [ "<!(node -e \"require('fuse-shared-library/lib')\")" ],
    }]
  }]
}
