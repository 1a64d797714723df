/**
 * What kind of crash an exception is, read from its type and message (Python and Node spellings). Pure.
 * Names quoted in the message (a property, a key, a callee) are incident text: they only ever select a
 * node of the parsed source and are never written into a patch — the patch is made of the source's text.
 */
import type { Language, ParsedTrace } from '../../../incident/types.ts';

export type NullishUse =
  | 'read' // a.b on None/undefined/null
  | 'set' // a.b = x
  | 'call' // None() / undefined()
  | 'subscript' // None[0]
  | 'destructure' // const { a } = undefined / a, b = None
  | 'iterate' // for x of undefined / for x in None / `in None`
  | 'len' // len(None)
  | 'object' // Object.keys(undefined)
  | 'operand' // None + 1, None < 1
  | 'convert' // int(None), float(None)
  | 'format'; // f"{None:.2f}"

export type ParseWhat = 'json' | 'int' | 'float' | 'number' | 'date' | 'decimal' | 'uuid' | 'bigint' | 'url';

export type Fault =
  | { kind: 'zero-division' }
  | {
      kind: 'nullish';
      use: NullishUse;
      /** The property read or written (JS 'reading x', Python attribute): selects the access node. */
      property?: string;
      /** Source text the runtime printed for the value (V8 `o.items is not iterable`): selects a node. */
      printed?: string;
      /** Python operators: the operator and which side was None. */
      operator?: string;
      side?: 'left' | 'right' | 'both';
      /** The other operand's type (Python `'NoneType' and 'int'`), from a fixed table: 0, '' or []. */
      other?: 'number' | 'string' | 'list' | 'tuple' | 'dict';
      nullValue: 'None' | 'undefined' | 'null' | 'nullish';
    }
  | { kind: 'missing-key'; key?: string | number }
  | { kind: 'index'; what: 'subscript' | 'empty-call' | 'choice' | 'next' | 'reduce' | 'pop' }
  | { kind: 'parse'; what: ParseWhat }
  | {
      kind: 'not-callable';
      /** V8's text for the callee (`o.items.map`), matched against the source. */
      printed?: string;
      /** Python: the type that was called ('NoneType', 'str', …). */
      calledType?: string;
    };

/** Maps a Python type name in a message to a neutral value kind; anything else is not used. */
function pyKind(t: string): 'number' | 'string' | 'list' | 'tuple' | 'dict' | undefined {
  switch (t) {
    case 'int':
    case 'float':
    case 'Decimal':
    case 'decimal.Decimal':
    case 'Fraction':
    case 'complex':
      return 'number';
    case 'str':
      return 'string';
    case 'list':
      return 'list';
    case 'tuple':
      return 'tuple';
    case 'dict':
      return 'dict';
    default:
      return undefined;
  }
}

const bare = (type: string) => type.slice(type.lastIndexOf('.') + 1);

function pythonFault(type: string, message: string): Fault | undefined {
  const name = bare(type);
  const msg = message.trim();
  if (name === 'ZeroDivisionError' || name === 'DivisionByZero' || /DivisionUndefined/.test(msg)) {
    return { kind: 'zero-division' };
  }
  if (name === 'KeyError') {
    const s = /^(['"])(.*)\1$/s.exec(msg);
    if (s) return { kind: 'missing-key', key: s[2]! };
    if (/^-?\d+$/.test(msg)) return { kind: 'missing-key', key: Number(msg) };
    return { kind: 'missing-key' };
  }
  if (name === 'AttributeError') {
    const m = /^'NoneType' object has no attribute '([^']+)'/.exec(msg);
    if (m) return { kind: 'nullish', use: 'read', property: m[1]!, nullValue: 'None' };
    return undefined;
  }
  if (name === 'TypeError') {
    if (/^'NoneType' object is not subscriptable/.test(msg))
      return { kind: 'nullish', use: 'subscript', nullValue: 'None' };
    if (/^'NoneType' object does not support item assignment/.test(msg))
      return { kind: 'nullish', use: 'set', nullValue: 'None' };
    if (/^'NoneType' object is not iterable|^argument of type 'NoneType' is not iterable/.test(msg))
      return { kind: 'nullish', use: 'iterate', nullValue: 'None' };
    if (/^cannot unpack non-iterable NoneType object/.test(msg))
      return { kind: 'nullish', use: 'destructure', nullValue: 'None' };
    if (/^object of type 'NoneType' has no len\(\)/.test(msg))
      return { kind: 'nullish', use: 'len', nullValue: 'None' };
    if (/^'NoneType' object is not callable/.test(msg)) return { kind: 'not-callable', calledType: 'NoneType' };
    const called = /^'(\w+)' object is not callable/.exec(msg);
    if (called) return { kind: 'not-callable', calledType: called[1]! };
    if (/^unsupported format string passed to NoneType\.__format__/.test(msg))
      return { kind: 'nullish', use: 'format', nullValue: 'None' };
    if (/^(int|float)\(\) argument must be .*not 'NoneType'/.test(msg))
      return { kind: 'nullish', use: 'convert', nullValue: 'None' };
    const op = /^unsupported operand type\(s\) for ([^:]+): '([\w.]+)' and '([\w.]+)'/.exec(msg);
    if (op && (op[2] === 'NoneType' || op[3] === 'NoneType')) {
      const side = op[2] === op[3] ? 'both' : op[2] === 'NoneType' ? 'left' : 'right';
      const other = pyKind(side === 'left' ? op[3]! : op[2]!);
      return {
        kind: 'nullish',
        use: 'operand',
        operator: op[1]!.trim(),
        side,
        ...(other ? { other } : {}),
        nullValue: 'None',
      };
    }
    if (/^can only concatenate (str|list|tuple) \(not "NoneType"\) to/.test(msg)) {
      const other = pyKind(/^can only concatenate (\w+)/.exec(msg)![1]!);
      return {
        kind: 'nullish',
        use: 'operand',
        operator: '+',
        side: 'right',
        ...(other ? { other } : {}),
        nullValue: 'None',
      };
    }
    const cmp = /^'([<>=!]+)' not supported between instances of '([\w.]+)' and '([\w.]+)'/.exec(msg);
    if (cmp && (cmp[2] === 'NoneType' || cmp[3] === 'NoneType')) {
      const side = cmp[2] === cmp[3] ? 'both' : cmp[2] === 'NoneType' ? 'left' : 'right';
      const other = pyKind(side === 'left' ? cmp[3]! : cmp[2]!);
      return {
        kind: 'nullish',
        use: 'operand',
        operator: cmp[1]!,
        side,
        ...(other ? { other } : {}),
        nullValue: 'None',
      };
    }
    if (/^bad operand type for unary [-+~]: 'NoneType'/.test(msg))
      return { kind: 'nullish', use: 'operand', operator: 'unary', side: 'right', other: 'number', nullValue: 'None' };
    return undefined;
  }
  if (name === 'IndexError') {
    if (/pop from empty/.test(msg)) return { kind: 'index', what: 'pop' };
    if (/Cannot choose from an empty sequence/.test(msg)) return { kind: 'index', what: 'choice' };
    if (/index out of range/.test(msg)) return { kind: 'index', what: 'subscript' };
    return undefined;
  }
  if (name === 'StopIteration') return { kind: 'index', what: 'next' };
  if (name === 'StatisticsError' && /at least one data point|no (median|mode) for empty/.test(msg)) {
    return { kind: 'index', what: 'empty-call' };
  }
  if (name === 'JSONDecodeError' || /(^|\.)(json|simplejson|orjson|ujson)\b.*DecodeError$/.test(type)) {
    return { kind: 'parse', what: 'json' };
  }
  if (name === 'InvalidOperation' && /ConversionSyntax/.test(msg)) return { kind: 'parse', what: 'decimal' };
  if (name === 'ValueError') {
    if (/^(max|min)\(\) (arg is an empty sequence|iterable argument is empty)/.test(msg))
      return { kind: 'index', what: 'empty-call' };
    if (/^invalid literal for int\(\)/.test(msg)) return { kind: 'parse', what: 'int' };
    if (/^could not convert string to float/.test(msg)) return { kind: 'parse', what: 'float' };
    if (
      /^Invalid isoformat string|does not match format|^unconverted data remains|^day is out of range|^month must be in/.test(
        msg,
      )
    )
      return { kind: 'parse', what: 'date' };
    if (/^badly formed hexadecimal UUID string/.test(msg)) return { kind: 'parse', what: 'uuid' };
    if (/^(Expecting value|Expecting property name|Extra data|Unterminated string|Invalid control character)/.test(msg))
      return { kind: 'parse', what: 'json' };
  }
  return undefined;
}

const V8_NULLISH = /^(undefined|null)$/;

function nodeFault(type: string, message: string): Fault | undefined {
  const msg = message.trim();
  if (type === 'TypeError') {
    let m = /^Cannot read propert(?:y|ies) of (undefined|null) \(reading '(.*)'\)$/s.exec(msg);
    if (m) return { kind: 'nullish', use: 'read', property: m[2]!, nullValue: m[1] as 'undefined' | 'null' };
    m = /^Cannot read property '(.*)' of (undefined|null)$/s.exec(msg);
    if (m) return { kind: 'nullish', use: 'read', property: m[1]!, nullValue: m[2] as 'undefined' | 'null' };
    m = /^Cannot set propert(?:y|ies) of (undefined|null) \(setting '(.*)'\)$/s.exec(msg);
    if (m) return { kind: 'nullish', use: 'set', property: m[2]!, nullValue: m[1] as 'undefined' | 'null' };
    m = /^Cannot destructure property '(.*)' of '(.*)' as it is (undefined|null)\.?$/s.exec(msg);
    if (m) {
      return {
        kind: 'nullish',
        use: 'destructure',
        property: m[1]!,
        ...(V8_NULLISH.test(m[2]!) ? {} : { printed: m[2]! }),
        nullValue: m[3] as 'undefined' | 'null',
      };
    }
    m = /^Cannot destructure '(.*)' as it is (undefined|null)\.?$/s.exec(msg);
    if (m) {
      return {
        kind: 'nullish',
        use: 'destructure',
        ...(V8_NULLISH.test(m[1]!) ? {} : { printed: m[1]! }),
        nullValue: m[2] as 'undefined' | 'null',
      };
    }
    m = /^(?:object )?(.+?) is not iterable(?: \(cannot read property Symbol\(Symbol\.iterator\)\))?$/s.exec(msg);
    if (m) {
      const printed = m[1]!;
      return {
        kind: 'nullish',
        use: 'iterate',
        ...(V8_NULLISH.test(printed) ? {} : { printed }),
        nullValue: printed === 'null' ? 'null' : 'nullish',
      };
    }
    if (/^Cannot convert undefined or null to object$/.test(msg))
      return { kind: 'nullish', use: 'object', nullValue: 'nullish' };
    m = /^(.+?) is not a function(?: or its return value is not iterable)?$/s.exec(msg);
    if (m) return { kind: 'not-callable', printed: m[1]! };
    if (/^Reduce of empty array with no initial value$/.test(msg)) return { kind: 'index', what: 'reduce' };
    if (/^Invalid URL/.test(msg)) return { kind: 'parse', what: 'url' };
  }
  if (type === 'SyntaxError') {
    if (
      /JSON|Unexpected token|Unexpected end of (JSON )?input|Unexpected non-whitespace character|Expected property name|Bad control character|Unterminated string/.test(
        msg,
      )
    )
      return { kind: 'parse', what: 'json' };
    if (/^Cannot convert .* to a BigInt$/s.test(msg)) return { kind: 'parse', what: 'bigint' };
  }
  if (type === 'RangeError') {
    if (/^Invalid time value$/.test(msg)) return { kind: 'parse', what: 'date' };
    if (/^Division by zero$/.test(msg)) return { kind: 'zero-division' };
    if (
      /^(Invalid array length|Invalid count value|toFixed\(\) digits|The number NaN cannot be converted to a BigInt)/.test(
        msg,
      )
    )
      return { kind: 'parse', what: 'number' };
  }
  return undefined;
}

export function faultOf(trace: Pick<ParsedTrace, 'language' | 'exceptionType' | 'message'>): Fault | undefined {
  return trace.language === 'python'
    ? pythonFault(trace.exceptionType, trace.message)
    : nodeFault(trace.exceptionType, trace.message);
}

/** The crash class a fault belongs to (one template module each). */
export type CrashClass =
  | 'zero-division'
  | 'nullish'
  | 'missing-key'
  | 'index'
  | 'parse'
  | 'not-callable'
  | 'none-operand';

export function crashClass(fault: Fault): CrashClass {
  if (fault.kind === 'nullish' && (fault.use === 'operand' || fault.use === 'convert' || fault.use === 'format')) {
    return 'none-operand';
  }
  return fault.kind;
}

export type { Language };
