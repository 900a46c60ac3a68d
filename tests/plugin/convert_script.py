"""Print the loader script `polygraphy convert ARGS...` builds and runs for a TensorRT engine, then the name of
the engine-bytes loader, without running it (so without TensorRT).

`polygraphy convert` has no --gen-script: it fills a polygraphy.tools.script.Script with the same argument
groups' add_to_script and executes it (TrtLoadEngineBytesArgs.load_engine_bytes -> args_util.run_script).
This builds that Script from convert's own parser and argument groups and prints it. Run with the python of
the Polygraphy install under test (it imports only Polygraphy): python convert_script.py MODEL --trt-npps ...
"""

import sys

from polygraphy.tools.args import TrtLoadEngineBytesArgs
from polygraphy.tools.convert import Convert
from polygraphy.tools.script import Script

tool = Convert()
parser = tool.setup_parser()
args = parser.parse_args(sys.argv[1:])
tool.parse(args)
script = Script()
name = tool.arg_groups[TrtLoadEngineBytesArgs].add_to_script(script)
print(str(script))
print(f"# engine bytes: {name}")
