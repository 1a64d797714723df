/**
 * Classification before repair: is this crash a defect in the service's own code (patch it), or did
 * something around the code fail — a dependency, a resource, the configuration — where a patch would at
 * best hide the failure (a try/except around a downed database is never a fix)? Pure: it reads the parsed
 * exception chain, the source lines of the in-repo frames and the log text, and says why, with what a
 * human should check.
 *
 * Order matters: resource exhaustion and dependency failures anywhere in the chain win over everything
 * (a KeyError raised while handling a refused connection is the outage, not the KeyError); configuration
 * next (start-up reads of the environment or config); then a code defect when the crash surfaced in the
 * repo's code; else unknown.
 */
import type { ParsedTrace, StackFrame } from '../incident/types.ts';

export type Classification = 'code-defect' | 'dependency-failure' | 'resource-exhaustion' | 'configuration' | 'unknown';

export interface ClassificationResult {
  classification: Classification;
  /** One line: why this class (names the exception and, where known, the dependency). */
  reason: string;
  /** What a human should look at first. */
  whatToCheck: string[];
}

export interface ClassifyInput {
  /** The trace that explains the crash, with its causes (`cause` chain). */
  trace?: ParsedTrace;
  /** Exceptions wrapped around `trace` (printed after it), outermost last; they belong to the chain too. */
  outer?: ParsedTrace[];
  /** Log text: OOM kills and fatal heap errors leave no trace. */
  logs?: string;
  /** The source line a repo frame points at (the trace's own copy or the repo's file). */
  sourceLine?: (frame: StackFrame) => string | undefined;
}

/** Text quoted from the incident into a reason: bounded, one line (the result is redacted on the way out). */
function quote(s: string, max = 160): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

function describe(t: ParsedTrace): string {
  return t.message ? `${t.exceptionType}: ${quote(t.message)}` : t.exceptionType;
}

// ---------------------------------------------------------------------------------------------------------
// Dependency failures: the exception types and messages of clients whose peer is down, slow or unknown.

/** Exception types (full dotted names or bare class names) that mean a peer failed. */
const DEPENDENCY_TYPES: RegExp[] = [
  // Python builtins and stdlib
  /(^|\.)(ConnectionError|ConnectionRefusedError|ConnectionResetError|ConnectionAbortedError|BrokenPipeError)$/,
  /(^|\.)TimeoutError$/,
  /^socket\.(timeout|gaierror|herror)$/,
  /^(http\.client\.)?(RemoteDisconnected|IncompleteRead)$/,
  /^ssl\.SSL(CertVerification|EOF|ZeroReturn)?Error$/,
  /^smtplib\.SMTP(ServerDisconnected|ConnectError)$/,
  // HTTP clients
  /^requests\.exceptions\.(ConnectionError|ConnectTimeout|ReadTimeout|Timeout|ProxyError|SSLError|ChunkedEncodingError|RetryError)$/,
  /^urllib3\.exceptions\.(NewConnectionError|MaxRetryError|ProtocolError|ReadTimeoutError|ConnectTimeoutError|TimeoutError)$/,
  /^httpx\.(ConnectError|ConnectTimeout|ReadTimeout|WriteTimeout|PoolTimeout|RemoteProtocolError|ReadError|WriteError|NetworkError|TimeoutException)$/,
  /^aiohttp\.(client_exceptions\.)?(ClientConnectorError|ClientConnectionError|ServerDisconnectedError|ServerTimeoutError|ClientOSError)$/,
  // Databases, caches, brokers, cloud SDKs
  /^(psycopg2?|psycopg2\.errors|django\.db\.utils|pymysql\.err|MySQLdb(\._exceptions)?|mysql\.connector\.errors)\.(OperationalError|InterfaceError)$/,
  /^sqlalchemy\.exc\.(OperationalError|InterfaceError|DisconnectionError)$/,
  /^asyncpg\.exceptions\.(ConnectionDoesNotExistError|CannotConnectNowError|ConnectionFailureError|InterfaceError)$/,
  /^pymongo\.errors\.(ServerSelectionTimeoutError|AutoReconnect|NetworkTimeout|ConnectionFailure|NotPrimaryError)$/,
  /^redis\.(exceptions\.)?(ConnectionError|TimeoutError|BusyLoadingError)$/,
  /^(kafka\.errors\.)?(NoBrokersAvailable|KafkaTimeoutError)$/,
  /^pika\.exceptions\.(AMQPConnectionError|StreamLostError|ConnectionClosed\w*)$/,
  /^kombu\.exceptions\.OperationalError$/,
  /^botocore\.exceptions\.(EndpointConnectionError|ConnectTimeoutError|ReadTimeoutError|ConnectionClosedError)$/,
  /^(elasticsearch|elastic_transport)\.(exceptions\.)?(ConnectionError|ConnectionTimeout|TransportError)$/,
  // Node
  /^(MongoNetworkError|MongoServerSelectionError|MongoNetworkTimeoutError|MongoTopologyClosedError)$/,
  /^Sequelize(ConnectionError|ConnectionRefusedError|HostNotFoundError|HostNotReachableError|ConnectionTimedOutError)$/,
  /^(FetchError|AbortError|RequestError|ConnectTimeoutError|SocketError|HeadersTimeoutError|BodyTimeoutError)$/,
  /^(MaxRetriesPerRequestError|ConnectionTimeoutError|SocketClosedUnexpectedlyError|ClientClosedError)$/,
  /^(KafkaJSConnectionError|KafkaJSNumberOfRetriesExceeded|KafkaJSBrokerNotFound|KafkaJSRequestTimeoutError)$/,
  /^(NoLivingConnectionsError|NetworkingError)$/,
];

/** Message text that means a peer failed, whatever the exception type. */
const DEPENDENCY_MESSAGES: RegExp[] = [
  /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ECONNABORTED|ESOCKETTIMEDOUT|EPIPE)\b/,
  /\bUND_ERR_(CONNECT_TIMEOUT|SOCKET|HEADERS_TIMEOUT|BODY_TIMEOUT|CLOSED)\b/,
  /\bgetaddrinfo\b/,
  /\bsocket hang up\b/i,
  /\bconnection (refused|reset|timed out|terminated|aborted)\b/i,
  /\b(Name or service not known|Temporary failure in name resolution|nodename nor servname provided|No address associated with hostname)\b/,
  /\b(Network is unreachable|No route to host)\b/,
  /\[Errno (101|104|110|111|113|-2|-3|-5)\]/,
  /\bcould not connect to server\b/i,
  /\bcould not translate host name\b/i,
  /\bserver closed the connection unexpectedly\b/i,
  /\bCan't connect to (MySQL|local MySQL) server\b/,
  /\bLost connection to MySQL server\b/,
  /\bConnection terminated (unexpectedly|due to connection timeout)\b/,
  /\btimeout exceeded when trying to connect\b/i,
  /\bConnection is closed\b/,
  /\bClient network socket disconnected before secure TLS connection\b/,
  /\bCan't reach database server\b/,
  /\bServer selection timed out\b/i,
  /\b(1[34]) (UNAVAILABLE|DEADLINE_EXCEEDED)\b|\bStatusCode\.(UNAVAILABLE|DEADLINE_EXCEEDED)\b/,
  /\btimeout of \d+ ?ms exceeded\b/i,
  /\bThe operation was aborted due to timeout\b/,
  /\burlopen error\b/,
  /\bfetch failed\b/,
];

/** A downstream answered 502/503/504 (or said it is overloaded): it is down, not the caller. */
const DOWNSTREAM_STATUS =
  /\b(?:status code|Response code|Server Error:?|HTTP(?:Error)?:?)\s*\(?(502|503|504)\b|\b(502|503|504) (?:Server Error|Bad Gateway|Service Unavailable|Gateway Time-?out)\b/i;
const HTTP_ERROR_TYPES = /(^|\.)(HTTPError|HTTPStatusError|AxiosError|HTTPClientError|ResponseError|StatusCodeError)$/;

/** Messages of database errors that are about credentials or names, not reachability: configuration. */
const DB_CONFIG_MESSAGES =
  /\b(password authentication failed|authentication failed|Access denied for user|role "[^"]*" does not exist|database "[^"]*" does not exist|Unknown database|no pg_hba\.conf entry)\b/i;

/** sqlite's OperationalError is mostly about the schema (no such table): a code or migration problem. */
const SQLITE_SCHEMA = /\b(no such (table|column)|syntax error|has no column named)\b/i;

const WELL_KNOWN_PORTS: Record<string, string> = {
  '5432': 'PostgreSQL',
  '3306': 'MySQL',
  '6379': 'Redis',
  '27017': 'MongoDB',
  '9200': 'Elasticsearch',
  '5672': 'RabbitMQ',
  '9092': 'Kafka',
  '11211': 'memcached',
  '2181': 'ZooKeeper',
  '8500': 'Consul',
  '4317': 'an OpenTelemetry collector',
};

function peerOf(text: string): string | undefined {
  const hostPort =
    /\b(?:connect|to|at|host)\s+(?:E[A-Z]+\s+)?["'(]?([\w.-]+|\[[0-9a-f:]+\]):(\d{2,5})\b/i.exec(text) ??
    /\b([a-z0-9][\w.-]*\.[a-z]{2,}|\d{1,3}(?:\.\d{1,3}){3}):(\d{2,5})\b/i.exec(text);
  if (hostPort) {
    const kind = WELL_KNOWN_PORTS[hostPort[2]!];
    return `${hostPort[1]}:${hostPort[2]}${kind ? ` (${kind}'s port)` : ''}`;
  }
  const host = /\b(?:getaddrinfo (?:ENOTFOUND|EAI_AGAIN)|host name|hostname)\s+"?([\w.-]+)"?/i.exec(text);
  return host ? host[1] : undefined;
}

function peerKind(type: string, message: string): string | undefined {
  const t = `${type} ${message}`;
  if (/psycopg|postgres|asyncpg|\bpg\b|PostgreSQL/i.test(t)) return 'PostgreSQL';
  if (/mysql|MariaDB/i.test(t)) return 'MySQL';
  if (/mongo/i.test(t)) return 'MongoDB';
  if (/redis/i.test(t)) return 'Redis';
  if (/kafka/i.test(t)) return 'Kafka';
  if (/amqp|pika|rabbit|kombu/i.test(t)) return 'the message broker';
  if (/elastic/i.test(t)) return 'Elasticsearch';
  if (/sequelize|sqlalchemy|django\.db|prisma|knex/i.test(t)) return 'the database';
  if (/botocore|aws/i.test(t)) return 'an AWS endpoint';
  if (/requests|urllib|httpx|aiohttp|axios|fetch|undici|got|HTTP/i.test(t)) return 'a downstream HTTP service';
  return undefined;
}

function isDependencyFailure(t: ParsedTrace): boolean {
  const type = t.exceptionType;
  const msg = t.message;
  if (/(^|\.)OperationalError$/.test(type) && /sqlite3/.test(`${type} ${msg}`)) {
    return /\b(database is locked|unable to open database file)\b/i.test(msg);
  }
  if (DB_CONFIG_MESSAGES.test(msg)) return false;
  if (/(^|\.)OperationalError$/.test(type) && SQLITE_SCHEMA.test(msg)) return false;
  if (DEPENDENCY_TYPES.some((re) => re.test(type))) return true;
  if (HTTP_ERROR_TYPES.test(type) || /^Error$/.test(type)) {
    if (DOWNSTREAM_STATUS.test(msg)) return true;
  }
  return DEPENDENCY_MESSAGES.some((re) => re.test(msg));
}

// ---------------------------------------------------------------------------------------------------------
// Resource exhaustion: memory, file descriptors, disk, processes, connection pools.

const RESOURCE_TYPES: RegExp[] = [
  /(^|\.)MemoryError$/,
  /^sqlalchemy\.exc\.TimeoutError$/, // QueuePool limit reached
  /^(KnexTimeoutError|SequelizeConnectionAcquireTimeoutError)$/,
  /^asyncpg\.exceptions\.TooManyConnectionsError$/,
];
const RESOURCE_MESSAGES: { re: RegExp; what: string }[] = [
  { re: /\bEMFILE\b|\bENFILE\b|Too many open files|\[Errno 2[34]\]/i, what: 'file descriptors' },
  { re: /\bENOSPC\b|No space left on device|\[Errno 28\]|Disk quota exceeded|\[Errno 122\]/i, what: 'disk space' },
  { re: /\bENOMEM\b|Cannot allocate memory|\[Errno 12\]|Array buffer allocation failed/i, what: 'memory' },
  { re: /JavaScript heap out of memory|Reached heap limit|Allocation failed/i, what: 'memory' },
  {
    re: /can't start new thread|\bspawn EAGAIN\b|Resource temporarily unavailable|\[Errno 11\]/i,
    what: 'processes or threads',
  },
  {
    re: /QueuePool limit|pool is probably full|Timeout acquiring a connection|too many (clients|connections)/i,
    what: 'database connections',
  },
];
/** Logs of a process killed for memory: no trace is printed, the kernel or the orchestrator says so. */
const OOM_LOG =
  /\bOOMKilled\b|Out of memory: Killed process|JavaScript heap out of memory|Reached heap limit|was sent SIGKILL! Perhaps out of memory|\bexit(?:ed)? (?:with )?code 137\b/i;

const RECURSION = /^(RecursionError|RangeError)$/;
const RECURSION_MESSAGE = /maximum recursion depth exceeded|Maximum call stack size exceeded/;

function resourceOf(t: ParsedTrace): string | undefined {
  if (RESOURCE_TYPES.some((re) => re.test(t.exceptionType))) {
    return /MemoryError/.test(t.exceptionType) ? 'memory' : 'database connections';
  }
  return RESOURCE_MESSAGES.find((r) => r.re.test(t.message))?.what;
}

/** A recursion that repeats one of the repo's own functions is unbounded recursion in the code. */
function recursesInRepo(t: ParsedTrace): string | undefined {
  const counts = new Map<string, number>();
  for (const f of t.frames) {
    if (f.external || !f.repoPath) continue;
    const key = `${f.repoPath}:${f.function ?? ''}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  for (const [key, n] of counts) if (n >= 3) return key.split(':').pop() || key;
  // Python prints "[Previous line repeated N more times]" instead of the frames; one in-repo frame then.
  const inner = [...t.frames].reverse().find((f) => !f.external && f.repoPath);
  return inner?.function;
}

// ---------------------------------------------------------------------------------------------------------
// Configuration: the environment or a config file read (mostly at start-up) lacks what the code needs.

const CONFIG_TYPES: RegExp[] = [
  /(^|\.)ImproperlyConfigured$/,
  /^decouple\.UndefinedValueError$|(^|\.)UndefinedValueError$/,
  /^environs?\.(EnvError|EnvValidationError)$/,
  /^configparser\.(NoSectionError|NoOptionError|MissingSectionHeaderError)$/,
  /^SequelizeAccessDeniedError$/,
];
/** A line that reads the process environment. */
const READS_ENV =
  /\bos\.environ\b|\benviron\s*(\[|\.get\b)|\bos\.getenv\s*\(|\bgetenv\s*\(|\bprocess\.env\b|\bimport\.meta\.env\b/;
/** Messages that say a setting is missing or malformed. */
const CONFIG_MESSAGES: RegExp[] = [
  /\b(missing|required|undefined|not (?:set|defined|configured|provided)|must be (?:set|defined|provided)|is empty)\b[^.]*\b(env(?:ironment)?(?: var(?:iable)?)?|config(?:uration)?|setting)s?\b/i,
  /\b(env(?:ironment)? var(?:iable)?|config(?:uration)? (?:key|value|option)|setting)s?\b[^.]*\b(missing|required|not (?:set|found|defined)|must be set|is undefined)\b/i,
  /\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b (?:is |must be )?(?:not set|required|missing|must be set|undefined)\b/,
  /\bEnvironment variable not found\b/,
  /\bvalidation errors? for \w*(Settings|Config)\b/,
  /\bsecretOrPrivateKey must have a value\b/,
];
/** A config file (or key/cert) that is missing or unreadable. */
const CONFIG_FILE =
  /(ENOENT|EACCES|No such file or directory|Permission denied)[^\n]*?['"]?[^'"\s]*(\.(ya?ml|toml|ini|cfg|conf|env|json|pem|crt|key|properties)|\/\.env|config[^'"\s]*)['"]?/i;
const ENV_SENSITIVE_TYPES = /(^|\.)(KeyError|TypeError|AttributeError|ValueError|RangeError)$|^Error$/;

/** The runtime's own messages for a crash in code: they name properties, never settings. */
const RUNTIME_MESSAGE =
  /Cannot (read|set|destructure) propert|is not a function|is not iterable|object has no attribute|is not subscriptable/;
/** A frame running module top level: start-up (Python `<module>`, CommonJS wrapper, ES module body). */
const MODULE_LEVEL = /^(<module>|Object\.<anonymous>|<anonymous>|ModuleJob\.run)$/;

function configurationOf(
  chain: ParsedTrace[],
  trace: ParsedTrace | undefined,
  line: (f: StackFrame) => string | undefined,
): string | undefined {
  for (const t of chain) {
    if (CONFIG_TYPES.some((re) => re.test(t.exceptionType))) return describe(t);
    if (!RUNTIME_MESSAGE.test(t.message) && CONFIG_MESSAGES.some((re) => re.test(t.message))) return describe(t);
    if (CONFIG_FILE.test(t.message)) return `a configuration file is missing or unreadable (${describe(t)})`;
    if (DB_CONFIG_MESSAGES.test(t.message))
      return `the database refuses the configured credentials or names (${describe(t)})`;
  }
  const t = trace;
  if (!t || !ENV_SENSITIVE_TYPES.test(t.exceptionType)) return undefined;
  // The crash site, or the in-repo caller of a library that crashed on the value it was given.
  const repoFrames = t.frames.filter((f) => !f.external && f.repoPath);
  const inner = repoFrames[repoFrames.length - 1];
  if (!inner) return undefined;
  const src = line(inner) ?? '';
  if (READS_ENV.test(src)) {
    return `${describe(t)} on a line that reads the environment (${inner.repoPath}:${inner.line ?? '?'})`;
  }
  // Start-up code that hands an environment value to the function that crashed on it.
  const startup = repoFrames.find(
    (f) => MODULE_LEVEL.test(f.function ?? '<anonymous>') && READS_ENV.test(line(f) ?? ''),
  );
  if (startup) {
    return `${describe(t)} on a value read from the environment at start-up (${startup.repoPath}:${startup.line ?? '?'})`;
  }
  // A KeyError at import time on a settings mapping: a key missing from the configuration.
  if (
    /(^|\.)KeyError$/.test(t.exceptionType) &&
    inner.function === '<module>' &&
    /\b\w*(settings|config|conf|cfg|env|secrets)\w*\s*\[/i.test(src)
  ) {
    return `${describe(t)} reading configuration at import time (${inner.repoPath}:${inner.line ?? '?'})`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------

/** The chain outermost first: wrappers printed after the trace, the trace, then its causes. */
function chainOf(input: ClassifyInput): ParsedTrace[] {
  const chain: ParsedTrace[] = [...(input.outer ?? [])].reverse();
  for (let t = input.trace; t; t = t.cause) chain.push(t);
  return chain;
}

export function classify(input: ClassifyInput): ClassificationResult {
  const chain = chainOf(input);
  const line = input.sourceLine ?? ((f: StackFrame) => f.code);
  const trace = input.trace;

  for (const t of chain) {
    const what = resourceOf(t);
    if (what) {
      return {
        classification: 'resource-exhaustion',
        reason: `the service ran out of ${what} (${describe(t)}); a code patch cannot add capacity`,
        whatToCheck: resourceChecks(what),
      };
    }
  }
  if (!trace && input.logs && OOM_LOG.test(input.logs)) {
    return {
      classification: 'resource-exhaustion',
      reason: 'the process was killed for memory (out-of-memory in the logs, no stack trace)',
      whatToCheck: resourceChecks('memory'),
    };
  }
  for (const t of chain) {
    if (!isDependencyFailure(t)) continue;
    const text = chain.map((c) => c.message).join('\n');
    const peer = peerOf(text);
    const kind = chain.map((c) => peerKind(c.exceptionType, c.message)).find(Boolean);
    const who = [kind, peer && `at ${peer}`].filter(Boolean).join(' ') || 'a dependency';
    return {
      classification: 'dependency-failure',
      reason: `${who} failed (${describe(t)}${t === chain[0] ? '' : `, in the chain of ${chain[0]!.exceptionType}`}); not a defect in the service's code`,
      whatToCheck: [
        `Is ${who} up, healthy and reachable from the service (recent restarts, failovers, network policy, DNS)?`,
        "Do the service's connection settings (host, port, credentials, timeouts) point at the right place?",
        'If such outages are expected, add retries with backoff or a circuit breaker and alerting on the dependency — not a try/except that hides it.',
      ],
    };
  }
  const config = configurationOf(chain, trace, line);
  if (config) {
    return {
      classification: 'configuration',
      reason: `configuration: ${config}`,
      whatToCheck: [
        'Which environment variable, config key or file the crashing line reads, and whether the deployment sets it (manifests, secrets, config maps, .env).',
        'Whether a recent deployment or config change removed or renamed it.',
        'Fail fast at start-up with a clear message when a required setting is missing, rather than defaulting silently.',
      ],
    };
  }
  if (!trace) {
    return {
      classification: 'unknown',
      reason: 'no stack trace in the incident',
      whatToCheck: [
        'Find the error in the service logs around the incident time; a crash report with the trace lets suture diagnose it.',
      ],
    };
  }
  if (RECURSION.test(trace.exceptionType) && RECURSION_MESSAGE.test(trace.message)) {
    const fn = recursesInRepo(trace);
    if (!fn) {
      return {
        classification: 'resource-exhaustion',
        reason: `the stack overflowed outside the repo's code (${describe(trace)})`,
        whatToCheck: ['Which input nests that deeply, and whether the library has a depth limit to configure.'],
      };
    }
  }
  const inRepo = trace.frames.some((f) => !f.external && f.repoPath);
  if (inRepo) {
    return {
      classification: 'code-defect',
      reason: `${describe(trace)} raised in the repo's code`,
      whatToCheck: ['The crashing function and the input that reached it (the failing request).'],
    };
  }
  return {
    classification: 'unknown',
    reason: `${describe(trace)} raised outside the repo's code (no frame maps to a file in the repo)`,
    whatToCheck: [
      'Whether the service runs the code in this repo at this revision (paths in the trace vs. the repo).',
      'The library or runtime named in the trace, and the input that reached it.',
    ],
  };
}

function resourceChecks(what: string): string[] {
  switch (what) {
    case 'memory':
      return [
        'Memory limits and usage of the service (container limits, heap size flags, recent growth: a leak or a larger input).',
        'Whether one request or job loads unbounded data into memory (pagination, streaming).',
      ];
    case 'file descriptors':
      return [
        'Open file and socket counts of the process (a leak: files or connections not closed) and its ulimit -n.',
      ];
    case 'disk space':
      return ['Free space and inodes on the volumes the service writes (logs, temp files, uploads), and retention.'];
    case 'database connections':
      return [
        'Connection pool size versus concurrency, and connections that are never returned (a leak) or held across slow calls.',
      ];
    default:
      return [`Limits on ${what} for the service and what consumes them.`];
  }
}
