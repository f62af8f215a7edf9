// What a kickstart or boot template may use, checked on its syntax tree before it runs:
// Handlebars reports misuse of these only at render time and without a place (a missing
// partial, `{{#if}}` without its argument, `{{lookup}}` with none).
import Handlebars from 'handlebars';
import { InputError } from './errors.js';

type Node = hbs.AST.Node & { loc?: hbs.AST.SourceLocation };

/** Built-in helpers and how many arguments each takes. */
const ARITY: Record<string, [number, number]> = { if: [1, 1], unless: [1, 1], with: [1, 1], each: [1, 1], lookup: [2, 2] };

export function checkTemplate(ast: hbs.AST.Program, file: string): InputError | undefined {
  let found: InputError | undefined;
  const at = (n: Node) => ({ file, line: n.loc?.start.line ?? 1, col: (n.loc?.start.column ?? 0) + 1 });
  const flag = (n: Node, problem: string, hint: string) => {
    found ??= new InputError(at(n), problem, hint);
  };
  const v = new Handlebars.Visitor();
  const noPartials = (n: Node) => flag(n, 'template error: partials ({{> name}}) are not available in xsbuild templates', 'write the text out, or put shared parts in a layer fragment');
  const noDecorators = (n: Node) => flag(n, 'template error: decorators ({{* name}}) are not available in xsbuild templates', 'remove it');
  v.PartialStatement = noPartials;
  v.PartialBlockStatement = noPartials;
  v.Decorator = noDecorators;
  v.DecoratorBlock = noDecorators;
  const call = (n: hbs.AST.MustacheStatement | hbs.AST.BlockStatement | hbs.AST.SubExpression) => {
    const name = n.path.type === 'PathExpression' ? (n.path as hbs.AST.PathExpression).original : undefined;
    const arity = name !== undefined ? ARITY[name] : undefined;
    if (arity && (n.params.length < arity[0] || n.params.length > arity[1])) {
      const want = arity[0] === 1 ? 'exactly one argument' : `exactly ${arity[0]} arguments`;
      flag(n as Node, `template error: ${n.type === 'BlockStatement' ? '#' : ''}${name} takes ${want}, not ${n.params.length}`, name === 'lookup' ? 'write {{lookup object key}}' : `write {{#${name} value}}...{{/${name}}}`);
    }
  };
  // Visitor's own walk visits children; call it after checking this node.
  const walkMustache = Handlebars.Visitor.prototype.MustacheStatement;
  const walkBlock = Handlebars.Visitor.prototype.BlockStatement;
  const walkSub = Handlebars.Visitor.prototype.SubExpression;
  v.MustacheStatement = function (n) {
    call(n);
    walkMustache.call(this, n);
  };
  v.BlockStatement = function (n) {
    call(n);
    walkBlock.call(this, n);
  };
  v.SubExpression = function (n) {
    call(n);
    walkSub.call(this, n);
  };
  v.accept(ast);
  return found;
}
