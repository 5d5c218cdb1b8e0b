#!/usr/bin/env python3
"""Stand-in for the ``uxplay`` binary at the process seam, for behaviour the real 1.62 cannot
show here (a PIN-capable release, a crash on cue). ``-h`` prints the help of the release named
by ``STANDIN_RELEASE`` (``new`` or ``old``). Otherwise it records its argv in
``$STANDIN_DIR/launches`` and echoes each line written to the FIFO ``$STANDIN_DIR/ctl`` as its
own output; ``exit N`` makes it exit with status N.
"""

import json
import os
import sys

OLD_HELP = """UxPlay 1.62: An open-source AirPlay mirroring server based on RPiPlay
Usage: uxplay [-n name] [-s wxh] [-p [n]]
Options:
-n name   Specify the network name of the AirPlay server
-nh       Do not add "@hostname" at the end of the AirPlay server name
-nohold   Drop current connection when new client connects.
-d        Enable debug logging
"""
NEW_HELP = """UxPlay 1.72: An open-source AirPlay mirroring server.
Usage: uxplay [-n name] [-s wxh] [-p [n]] [(other options)]
Options:
-n name   Specify the network name of the AirPlay server
-nh       Do not add "@hostname" at the end of the AirPlay server name
-pin[xxxx]Use a 4-digit pin code to control client access (default: no)
-pw [pwd] Require use of password "pwd" to control client access.
-restrict Restrict clients to those specified by "-allow <deviceID>"
-allow id Permit deviceID = id to connect if restrictions are imposed.
-block id Always block connections from deviceID = id
-d [n]    Enable debug logging; optional: n = 1 to skip normal packet data.
"""


def main() -> int:
    if "-h" in sys.argv[1:]:
        print(NEW_HELP if os.environ.get("STANDIN_RELEASE") == "new" else OLD_HELP)
        return 0
    workdir = os.environ["STANDIN_DIR"]
    with open(os.path.join(workdir, "launches"), "a") as f:
        f.write(json.dumps({"pid": os.getpid(), "argv": sys.argv[1:]}) + "\n")
    print("Initialized server socket(s)", flush=True)
    with open(os.path.join(workdir, "ctl")) as ctl:
        for line in ctl:
            if line.startswith("exit "):
                return int(line.split()[1])
            print(line.rstrip("\n"), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
