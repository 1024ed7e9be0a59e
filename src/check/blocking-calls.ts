// Finds the blocking calls a function makes, itself or through the app's own functions it calls,
// in any module of the app. Calls are resolved by the type checker to their declarations: one
// in the app is followed into its body, one elsewhere (node_modules, Node's types, the standard
// library) is looked up among the known blocking calls. Code nested in the function (a callback
// it passes to map or setTimeout) counts as its own: it runs on the same thread.
import type TS from "typescript";
import { knownBlockingDeclaration, knownBlockingImport, type KnownBlocking } from "./blocking-apis.js";
import type { TypeScript } from "./typescript.js";

/** The comment that marks a deliberate blocking call (on its line or the line above), or a whole function. */
export const exemptionMarker = "loopwise-allow-blocking";

/** A place in the source: 1-based line and column. */
export interface SourcePlace {
  file: string;
  line: number;
  column: number;
}

/** One call on the way from the checked function to a blocking call. */
export interface Hop extends SourcePlace {
  /** The function called, as the code names it: `loadUser`, `repo.find`. */
  callee: string;
}

export interface BlockingCall extends KnownBlocking {
  /** The blocking call itself. */
  at: Hop;
  /** The app's functions called on the way there, outermost first (empty: the checked function calls it itself). */
  via: Hop[];
  /** Marked by a comment as deliberate, on the call, a call on the way, or a function on the way. */
  exempt: boolean;
}

export interface FinderOptions {
  /** Whether a file is the app's own code (followed), rather than a dependency's (looked up). */
  isAppFile(fileName: string): boolean;
  /** Whether a file or module specifier is Loopwise itself (its `sleepSync`, `blocking`, `offload`). */
  isLoopwise(fileNameOrModule: string): boolean;
}

const marker = new RegExp(`\\/[/*].*${exemptionMarker}`);
const functionKinds = new Set<number>();

export class BlockingCallFinder {
  private readonly checker: TS.TypeChecker;
  private readonly found = new Map<TS.Node, BlockingCall[]>();
  private readonly visiting = new Set<TS.Node>();
  private readonly markedLines = new Map<TS.SourceFile, Set<number>>();
  private registered: Set<TS.Node> | undefined;

  constructor(
    private readonly ts: TypeScript,
    private readonly program: TS.Program,
    private readonly options: FinderOptions,
  ) {
    this.checker = program.getTypeChecker();
    if (functionKinds.size === 0) {
      const k = ts.SyntaxKind;
      for (const kind of [
        k.FunctionDeclaration,
        k.FunctionExpression,
        k.ArrowFunction,
        k.MethodDeclaration,
        k.Constructor,
        k.GetAccessor,
        k.SetAccessor,
      ]) {
        functionKinds.add(kind);
      }
    }
  }

  /** The innermost function written at `line`/`column` (0-based) of `fileName`, where V8 says a function starts. */
  functionAt(fileName: string, line: number, column: number): TS.FunctionLikeDeclaration | undefined {
    const file = this.program.getSourceFile(fileName);
    if (!file) return undefined;
    const lines = file.getLineStarts();
    if (line < 0 || line >= lines.length) return undefined;
    const pos = Math.min(lines[line]! + column, file.end);
    let innermost: TS.FunctionLikeDeclaration | undefined;
    const descend = (node: TS.Node) => {
      if (pos < node.getStart(file) || pos >= node.end) return;
      if (functionKinds.has(node.kind)) innermost = node as TS.FunctionLikeDeclaration;
      node.forEachChild(descend);
    };
    file.forEachChild(descend);
    return innermost;
  }

  /** Every blocking call `fn` makes, directly or through the app's functions; one per call site. */
  blockingCalls(fn: TS.FunctionLikeDeclaration): BlockingCall[] {
    const exempt = this.isMarkedFunction(fn);
    return this.callsOf(fn).map((call) => (exempt ? { ...call, exempt: true } : call));
  }

  /** The app's own function a call runs, followed into its body (not one registered with blocking()), if any. */
  appFunctionCalled(call: TS.CallExpression | TS.NewExpression): TS.FunctionLikeDeclaration | undefined {
    const target = this.targetOf(call);
    return target && "fn" in target ? target.fn : undefined;
  }

  private callsOf(fn: TS.Node): BlockingCall[] {
    const known = this.found.get(fn);
    if (known) return known;
    // A cycle (recursion through helpers): the calls of the function are being gathered already.
    if (this.visiting.has(fn)) return [];
    this.visiting.add(fn);
    const calls: BlockingCall[] = [];
    const seen = new Set<string>();
    const add = (call: BlockingCall) => {
      const key = `${call.at.file}:${call.at.line}:${call.at.column}`;
      if (seen.has(key)) return;
      seen.add(key);
      calls.push(call);
    };
    const visit = (node: TS.Node) => {
      if (this.ts.isCallExpression(node) || this.ts.isNewExpression(node)) this.callsAt(node, add);
      node.forEachChild(visit);
    };
    const body = (fn as TS.FunctionLikeDeclaration).body;
    if (body) visit(body);
    this.visiting.delete(fn);
    this.found.set(fn, calls);
    return calls;
  }

  private callsAt(call: TS.CallExpression | TS.NewExpression, add: (call: BlockingCall) => void): void {
    const hop = this.hopOf(call, calleeText(this.ts, call));
    const marked = this.isMarkedLine(call.getSourceFile(), call.getStart());
    const target = this.targetOf(call);
    if (target) this.addTarget(target, hop, marked, add);
    // A function of the app handed to another (`items.map(parse)`, `setTimeout(flush)`) runs on
    // this thread too; one handed to Loopwise (offload, a background task) goes where Loopwise sends it.
    if (this.isLoopwiseCallee(call)) return;
    for (const argument of call.arguments ?? []) {
      const node = unwrap(this.ts, argument);
      if (!this.ts.isIdentifier(node) && !this.ts.isPropertyAccessExpression(node)) continue;
      const passed = this.passedTarget(node, hop.callee);
      if (passed) this.addTarget(passed, this.hopOf(node, `${passed.name} (passed to ${hop.callee})`), marked, add);
    }
  }

  private addTarget(target: KnownBlocking | { fn: TS.FunctionLikeDeclaration }, hop: Hop, marked: boolean, add: (call: BlockingCall) => void): void {
    if ("kind" in target) {
      add({ ...target, at: hop, via: [], exempt: marked });
      return;
    }
    const exemptInside = this.isMarkedFunction(target.fn);
    for (const inner of this.callsOf(target.fn)) {
      add({ ...inner, via: [hop, ...inner.via], exempt: inner.exempt || marked || exemptInside });
    }
  }

  /** An app function passed by name: followed as if called where it is passed. */
  private passedTarget(node: TS.Expression, to: string): ((KnownBlocking | { fn: TS.FunctionLikeDeclaration }) & { name: string }) | undefined {
    const declaration = this.symbolOf(calleeName(this.ts, node))?.valueDeclaration;
    if (!declaration || !this.options.isAppFile(declaration.getSourceFile().fileName)) return undefined;
    const fn = this.bodyOf(declaration);
    if (!fn) return undefined;
    const name = node.getText();
    if (this.registeredWithBlocking().has(fn)) return { kind: "app-blocking", api: `${name} (registered with blocking(), passed to ${to})`, name };
    return { fn, name };
  }

  /** Whether the called function is Loopwise's own (offload, a background task's add, depends). */
  private isLoopwiseCallee(call: TS.CallExpression | TS.NewExpression): boolean {
    const declaration = this.declarationOf(call);
    if (declaration) return this.options.isLoopwise(declaration.getSourceFile().fileName);
    const imported = this.importOf(call.expression);
    return imported !== undefined && this.options.isLoopwise(imported.module);
  }

  /** What a call runs: a known blocking call, an app function to follow, or nothing we know. */
  private targetOf(call: TS.CallExpression | TS.NewExpression): KnownBlocking | { fn: TS.FunctionLikeDeclaration } | undefined {
    const ts = this.ts;
    const declaration = this.declarationOf(call);
    // An import the types do not follow (an untyped package, no @types/node) binds no declaration of its own.
    if (!declaration || ts.isImportSpecifier(declaration) || ts.isImportClause(declaration) || ts.isNamespaceImport(declaration)) {
      return this.knownByImport(call);
    }
    if (!this.options.isAppFile(declaration.getSourceFile().fileName)) {
      // Known by the signature (a transaction's call signature) or by the name it is called by
      // (`const statSync: StatSyncFn` in Node's types, whose signature is the interface's).
      const isLoopwise = (f: string) => this.options.isLoopwise(f);
      const named = this.symbolOf(calleeName(ts, call.expression))?.declarations?.[0];
      return knownBlockingDeclaration(ts, declaration, isLoopwise) ?? (named && knownBlockingDeclaration(ts, named, isLoopwise));
    }
    const fn = this.bodyOf(declaration, ts.isNewExpression(call));
    if (!fn) return undefined;
    if (this.registeredWithBlocking().has(fn)) return { kind: "app-blocking", api: `${calleeText(ts, call)} (registered with blocking())` };
    return { fn };
  }

  /** The declaration a call resolves to: its signature's, else its callee's symbol's (through imports). */
  private declarationOf(call: TS.CallExpression | TS.NewExpression): TS.Declaration | undefined {
    const signature = this.checker.getResolvedSignature(call);
    const declared = signature?.getDeclaration() as TS.Declaration | undefined;
    if (declared && !this.ts.isJSDocSignature(declared as TS.Node)) return declared;
    const symbol = this.symbolOf(calleeName(this.ts, call.expression));
    return symbol?.valueDeclaration ?? symbol?.declarations?.[0];
  }

  private symbolOf(node: TS.Node | undefined): TS.Symbol | undefined {
    if (!node) return undefined;
    let symbol = this.checker.getSymbolAtLocation(node);
    if (symbol && symbol.flags & this.ts.SymbolFlags.Alias) {
      const aliased = this.checker.getAliasedSymbol(symbol);
      if (aliased.declarations?.length) symbol = aliased;
    }
    return symbol;
  }

  /** The function that runs when `declaration` is called: itself, a function a variable holds, a class's constructor. */
  private bodyOf(declaration: TS.Declaration, constructs = false): TS.FunctionLikeDeclaration | undefined {
    const ts = this.ts;
    let node: TS.Node = declaration;
    if ((ts.isVariableDeclaration(node) || ts.isPropertyAssignment(node) || ts.isPropertyDeclaration(node)) && node.initializer) {
      node = unwrap(ts, node.initializer);
      // `const hash = blocking(fn)`: the function blocking() registered.
      if (ts.isCallExpression(node) && node.arguments[0] && this.isLoopwiseCall(node, "blocking"))
        node = this.functionValue(node.arguments[0]) ?? node;
    }
    if (ts.isClassDeclaration(node)) return constructs ? node.members.find(ts.isConstructorDeclaration) : undefined;
    if (!functionKinds.has(node.kind)) return undefined;
    const fn = node as TS.FunctionLikeDeclaration;
    if (fn.body) return fn;
    // An overload's signature: the implementation is the declaration with a body.
    const symbol = fn.name && this.checker.getSymbolAtLocation(fn.name);
    return symbol?.declarations?.find(
      (d): d is TS.FunctionLikeDeclaration => functionKinds.has(d.kind) && (d as TS.FunctionLikeDeclaration).body !== undefined,
    );
  }

  /** The function an expression names or is. */
  private functionValue(expression: TS.Expression): TS.FunctionLikeDeclaration | undefined {
    const node = unwrap(this.ts, expression);
    if (functionKinds.has(node.kind)) return node as TS.FunctionLikeDeclaration;
    const declaration = this.symbolOf(node)?.valueDeclaration;
    return declaration ? this.bodyOf(declaration) : undefined;
  }

  /** Every function the app registers with blocking(): called directly, it runs on its caller's thread. */
  private registeredWithBlocking(): Set<TS.Node> {
    if (this.registered) return this.registered;
    this.registered = new Set();
    for (const file of this.program.getSourceFiles()) {
      if (!this.options.isAppFile(file.fileName) || !/\bblocking\s*\(/.test(file.text)) continue;
      const visit = (node: TS.Node) => {
        if (this.ts.isCallExpression(node) && node.arguments[0] && this.isLoopwiseCall(node, "blocking")) {
          const fn = this.functionValue(node.arguments[0]);
          if (fn) this.registered!.add(fn);
        }
        node.forEachChild(visit);
      };
      file.forEachChild(visit);
    }
    return this.registered;
  }

  private isLoopwiseCall(call: TS.CallExpression, name: string): boolean {
    const symbol = this.symbolOf(calleeName(this.ts, call.expression));
    const declaration = symbol?.valueDeclaration ?? symbol?.declarations?.[0];
    if (declaration) return symbol!.name === name && this.options.isLoopwise(declaration.getSourceFile().fileName);
    const imported = this.importOf(call.expression);
    return imported !== undefined && imported.exported === name && this.options.isLoopwise(imported.module);
  }

  /** A call whose module the types do not reach (no @types/node, an untyped package): known by its import. */
  private knownByImport(call: TS.CallExpression | TS.NewExpression): KnownBlocking | undefined {
    if (isAtomicsWait(this.ts, call.expression)) return { kind: "atomics-wait", api: "Atomics.wait" };
    const imported = this.importOf(call.expression);
    return imported && knownBlockingImport(imported.module, imported.exported, (m) => this.options.isLoopwise(m));
  }

  /**
   * The module and export a callee comes from, read from the import that binds it:
   * `readFileSync` (a named import) or `fs.readFileSync` (a namespace or default import).
   */
  private importOf(callee: TS.Expression): { module: string; exported: string } | undefined {
    const ts = this.ts;
    const expression = unwrap(ts, callee);
    const [root, member] =
      ts.isPropertyAccessExpression(expression) && ts.isIdentifier(expression.expression)
        ? [expression.expression, expression.name.text]
        : [expression, undefined];
    if (!ts.isIdentifier(root)) return undefined;
    const local = this.checker.getSymbolAtLocation(root);
    const declaration = local?.declarations?.[0];
    if (!declaration) return undefined;
    if (ts.isImportSpecifier(declaration)) {
      const module = declaration.parent.parent.parent.moduleSpecifier;
      if (!ts.isStringLiteral(module)) return undefined;
      const exported = (declaration.propertyName ?? declaration.name).text;
      // `import { promises } from "fs"` then `promises.x()`: not a function of the module itself.
      return member === undefined ? { module: module.text, exported } : undefined;
    }
    if ((ts.isNamespaceImport(declaration) || ts.isImportClause(declaration)) && member !== undefined) {
      const importDeclaration = ts.isNamespaceImport(declaration) ? declaration.parent.parent : declaration.parent;
      const module = importDeclaration.moduleSpecifier;
      return ts.isStringLiteral(module) ? { module: module.text, exported: member } : undefined;
    }
    return undefined;
  }

  private hopOf(node: TS.Node, callee: string): Hop {
    const file = node.getSourceFile();
    const { line, character } = file.getLineAndCharacterOfPosition(node.getStart(file));
    return { file: file.fileName, line: line + 1, column: character + 1, callee };
  }

  private isMarkedLine(file: TS.SourceFile, pos: number): boolean {
    let lines = this.markedLines.get(file);
    if (!lines) {
      lines = new Set();
      file.text.split("\n").forEach((text, i) => {
        if (marker.test(text)) lines!.add(i);
      });
      this.markedLines.set(file, lines);
    }
    const line = file.getLineAndCharacterOfPosition(pos).line;
    return lines.has(line) || lines.has(line - 1);
  }

  /** A function marked where it starts, or where the statement that declares it starts (`const f = () => ...`). */
  private isMarkedFunction(fn: TS.Node): boolean {
    const file = fn.getSourceFile();
    if (this.isMarkedLine(file, fn.getStart(file))) return true;
    const statement = this.ts.findAncestor(fn, (n) => this.ts.isVariableStatement(n) || this.ts.isClassDeclaration(n));
    return statement !== undefined && this.isMarkedLine(file, statement.getStart(file));
  }
}

function unwrap(ts: TypeScript, expression: TS.Expression): TS.Expression {
  let node = expression;
  while (ts.isParenthesizedExpression(node) || ts.isAsExpression(node) || ts.isSatisfiesExpression(node) || ts.isNonNullExpression(node))
    node = node.expression;
  return node;
}

/** The node that names what is called: the identifier, or the member name of `a.b.c()`. */
function calleeName(ts: TypeScript, callee: TS.Expression): TS.Node | undefined {
  const node = unwrap(ts, callee);
  if (ts.isPropertyAccessExpression(node)) return node.name;
  if (ts.isElementAccessExpression(node)) return node.argumentExpression;
  return node;
}

function isAtomicsWait(ts: TypeScript, callee: TS.Expression): boolean {
  const node = unwrap(ts, callee);
  return ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === "Atomics" && node.name.text === "wait";
}

/** How the code names the callee, arguments left out: `fs.readFileSync`, `db.prepare(...).get`, `new Repo(...).find`. */
function calleeText(ts: TypeScript, call: TS.CallExpression | TS.NewExpression): string {
  const print = (node: TS.Expression): string => {
    node = unwrap(ts, node);
    if (ts.isIdentifier(node) || ts.isPrivateIdentifier(node)) return node.text;
    if (node.kind === ts.SyntaxKind.ThisKeyword) return "this";
    if (ts.isPropertyAccessExpression(node)) return `${print(node.expression)}.${node.name.text}`;
    if (ts.isElementAccessExpression(node)) return `${print(node.expression)}[...]`;
    if (ts.isCallExpression(node)) return `${print(node.expression)}(...)`;
    if (ts.isNewExpression(node)) return `new ${print(node.expression)}(...)`;
    if (ts.isArrayLiteralExpression(node)) return "[...]";
    if (ts.isObjectLiteralExpression(node)) return "{...}";
    return "(...)";
  };
  const text = print(call.expression);
  return ts.isNewExpression(call) ? `new ${text}` : text;
}
