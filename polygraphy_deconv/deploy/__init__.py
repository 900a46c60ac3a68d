"""Deployment paths that end in an engine file (docs/deploying.md).

- `npps`: the `polygraphy convert --trt-npps SCRIPT` path: `npps_script.script_text` writes a network
  postprocess script bound to one model; `postprocess.patch_parsed_network` is what that script runs.
Nothing here is imported by the plugin entry point; heavy modules are imported inside functions.
"""
