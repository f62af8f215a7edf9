// Finds the host's external dependencies in the project's TypeScript: programs passed to
// the process wrappers (run, execa, spawn, execFileSync, have, ...) and absolute system
// paths (/usr/lib/..., /usr/share/...). It reads the syntax tree (the TypeScript compiler
// the project already builds with), not text, so a program in a comment or a log message
// is not taken for one, and a `const XORRISO = 'xorriso'` passed by name is.
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

export type DepKind = 'program' | 'path';

export interface Dep {
  kind: DepKind;
  /** Program name ("xorriso") or absolute path ("/usr/lib/ISOLINUX/isohdpfx.bin"). */
  name: string;
  /** Where it is used, "file:line", relative to the project. */
  uses: string[];
}

/** Calls whose first argument is the program to start. */
const PROCESS_CALLS = new Set(['run', 'execa', 'execaSync', 'execFile', 'execFileSync', 'spawn', 'spawnSync', 'have', 'execSync', 'exec']);
/** Calls whose first argument is a shell command line. */
const SHELL_STRING_CALLS = new Set(['execSync', 'exec']);
const SHELLS = new Set(['sh', 'bash']);

/** System trees whose files come from Debian packages. */
const SYSTEM_PATH = /^\/(?:usr\/(?:lib|lib64|libexec|share|bin|sbin)|lib|lib64|bin|sbin)\/[A-Za-z0-9._+@-][A-Za-z0-9._+@/-]*$/;
const PROGRAM = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;
const SHELL_BUILTINS = new Set(['command', 'cd', 'exit', 'set', 'export', 'test', '[', 'true', 'false', 'echo', 'exec', 'times', 'read', 'printf', 'if', 'then', 'else', 'fi', 'for', 'do', 'done', 'while', 'case', 'esac', 'trap', 'wait', 'shift', 'local', 'return', 'eval', '.']);

export const SCANNED_DIRS = ['lib', 'builder', 'agent', 'test', 'bench', 'tools'];

export function scanProject(root: string): Dep[] {
  const found = new Map<string, Dep>();
  const add = (kind: DepKind, name: string, use: string) => {
    const key = `${kind} ${name}`;
    const d = found.get(key) ?? { kind, name, uses: [] };
    if (!d.uses.includes(use)) d.uses.push(use);
    found.set(key, d);
  };
  for (const dir of SCANNED_DIRS) {
    for (const file of tsFiles(path.join(root, dir))) {
      const rel = path.relative(root, file);
      scanSource(rel, readFileSync(file, 'utf8'), add);
    }
  }
  return [...found.values()].sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
}

function tsFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}

export function scanSource(rel: string, text: string, add: (kind: DepKind, name: string, use: string) => void): void {
  const sf = ts.createSourceFile(rel, text, ts.ScriptTarget.Latest, true);
  const where = (n: ts.Node) => `${rel}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`;
  // `const NAME = 'literal'` anywhere in the file, so a program passed by name is found.
  const consts = new Map<string, string>();
  const collect = (n: ts.Node) => {
    if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.initializer && ts.isStringLiteralLike(n.initializer)) {
      consts.set(n.name.text, n.initializer.text);
    }
    ts.forEachChild(n, collect);
  };
  collect(sf);
  // A program the syntax cannot show (built into an argument list and run through a
  // shell) is declared where it is used, in a line comment "depcheck: program NAME".
  for (const m of text.matchAll(/\/\/\s*depcheck:\s*(program|path)\s+(\S+)/g)) {
    add(m[1] as DepKind, m[2], `${rel}:${text.slice(0, m.index).split('\n').length}`);
  }
  const literal = (e: ts.Expression | undefined): string | undefined => {
    if (!e) return undefined;
    if (ts.isStringLiteralLike(e)) return e.text;
    if (ts.isIdentifier(e)) return consts.get(e.text);
    return undefined;
  };
  const addProgram = (name: string, n: ts.Node) => {
    if (name.startsWith('/')) {
      if (SYSTEM_PATH.test(name)) add('program', name, where(n));
    } else if (PROGRAM.test(name) && !SHELL_BUILTINS.has(name)) add('program', name, where(n));
  };
  const visit = (n: ts.Node) => {
    if (ts.isCallExpression(n)) {
      const callee = ts.isIdentifier(n.expression) ? n.expression.text : ts.isPropertyAccessExpression(n.expression) ? n.expression.name.text : '';
      if (PROCESS_CALLS.has(callee)) {
        const first = n.arguments[0];
        const prog = literal(first);
        if (prog !== undefined) {
          if (SHELL_STRING_CALLS.has(callee)) for (const p of shellPrograms(prog)) addProgram(p, n);
          else addProgram(prog, n);
          const args = n.arguments[1];
          if (SHELLS.has(prog) && args && ts.isArrayLiteralExpression(args)) {
            const i = args.elements.findIndex((e) => ts.isStringLiteralLike(e) && e.text === '-c');
            const script = i >= 0 ? shellText(args.elements[i + 1]) : undefined;
            if (script) for (const p of shellPrograms(script)) addProgram(p, n);
          }
        }
      }
    }
    if (ts.isStringLiteralLike(n) || ts.isTemplateHead(n) || ts.isTemplateMiddle(n) || ts.isTemplateTail(n)) {
      const t = n.text.replace(/\/+$/, '');
      if (SYSTEM_PATH.test(t) && !isDirectoryOnly(t)) add('path', t, where(n));
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
}

/** Text of a string or template literal, with `${...}` parts left out. */
function shellText(e: ts.Expression | undefined): string | undefined {
  if (!e) return undefined;
  if (ts.isStringLiteralLike(e)) return e.text;
  if (ts.isTemplateExpression(e)) return [e.head.text, ...e.templateSpans.map((s) => ' $X ' + s.literal.text)].join('');
  return undefined;
}

/** The first word of each simple command in a shell line. */
export function shellPrograms(script: string): string[] {
  const out: string[] = [];
  for (const part of script.split(/&&|\|\||[;|\n(){}]/)) {
    const words = part.trim().split(/\s+/).filter((w) => w && !/^[A-Za-z_][A-Za-z0-9_]*=/.test(w));
    const w = words[0];
    if (!w || /[$'"`<>*?]/.test(w)) continue;
    out.push(w);
  }
  return out;
}

/** Bare tree names (`/usr/lib`, `/usr/sbin`) are PATH entries or roots, not files a package ships. */
function isDirectoryOnly(p: string): boolean {
  return /^\/(?:usr\/)?(?:lib|lib64|libexec|share|bin|sbin)$/.test(p);
}
