/*  td_grade_harness — the Python harness that runs function and class scenarios.
 *
 *  It runs inside the sandbox like any learner program. It reads the scenario (the test object
 *  plus the submission's marker) from stdin, runs the learner's main.py as a module with its
 *  prints captured (so they cannot be mistaken for the outcome), performs the calls, and writes
 *  one line "<marker><json>" to the real stdout: {"value", "type"} for a function, {"calls":
 *  [...]} for a class, or {"exception", "message"} when the learner's code raised. Values that
 *  JSON cannot carry are reported by their repr().
 */
#include "td_grade_job.h"

const char td_grade_harness_py [] =
"import io, json, sys, contextlib\n"
"def _enc(v):\n"
"    try:\n"
"        json.dumps(v, allow_nan=False)\n"
"        return v\n"
"    except (TypeError, ValueError):\n"
"        return repr(v)\n"
"def _one(v):\n"
"    return {'value': _enc(v), 'type': type(v).__name__}\n"
"def _main():\n"
"    s = json.loads(sys.stdin.read())\n"
"    marker = s.pop('marker')\n"
"    real = sys.stdout\n"
"    out = io.StringIO()\n"
"    ns = {'__name__': '__learner__'}\n"
"    try:\n"
"        with contextlib.redirect_stdout(out):\n"
"            with open('/work/main.py') as f:\n"
"                src = f.read()\n"
"            exec(compile(src, 'main.py', 'exec'), ns)\n"
"            if s.get('kind') == 'function':\n"
"                fn = ns.get(s['function'])\n"
"                if not callable(fn):\n"
"                    raise NameError('there is no function named %s' % s['function'])\n"
"                r = _one(fn(*s.get('args', []), **s.get('kwargs', {})))\n"
"            else:\n"
"                cls = ns.get(s['class'])\n"
"                if not isinstance(cls, type):\n"
"                    raise NameError('there is no class named %s' % s['class'])\n"
"                obj = cls(*s.get('init_args', []))\n"
"                r = {'calls': [_one(getattr(obj, c['method'])(*c.get('args', []))) for c in s['calls']]}\n"
"    except BaseException as e:\n"
"        r = {'exception': type(e).__name__, 'message': str(e)[:500]}\n"
"    real.write(out.getvalue()[-4096:])\n"
"    real.write('\\n' + marker + json.dumps(r) + '\\n')\n"
"    real.flush()\n"
"_main()\n";
