// Markdown replies as terminal text: marked's lexer reads the Markdown (a well-kept parser
// that copes with the half-written Markdown of a reply still streaming), and this small
// renderer turns its tokens into styled lines. Control characters from the model are
// escaped before parsing, so only the renderer's own styling reaches the terminal.
import { Lexer, type Token, type Tokens } from 'marked';
import { escapeControls } from '../cli/output.js';
import { NO_COLOURS, type Style } from '../cli/style.js';

/** The reply's Markdown rendered for a terminal (styled when `style` has colours). */
export function renderMarkdown(markdown: string, style: Style = NO_COLOURS): string {
  const tokens = Lexer.lex(escapeControls(markdown));
  return blocks(tokens, style).join('\n\n');
}

function blocks(tokens: Token[], style: Style): string[] {
  return tokens.map((token) => block(token, style)).filter((text): text is string => text !== undefined);
}

function block(token: Token, style: Style): string | undefined {
  switch (token.type) {
    case 'space':
      return undefined;
    case 'heading': {
      const text = inline((token as Tokens.Heading).tokens, style);
      return (token as Tokens.Heading).depth === 1 ? style.bold(style.underline(text)) : style.bold(text);
    }
    case 'paragraph':
      return inline((token as Tokens.Paragraph).tokens, style);
    case 'code':
      return (token as Tokens.Code).text.split('\n').map((line) => `    ${style.yellow(line)}`).join('\n');
    case 'blockquote':
      return blocks((token as Tokens.Blockquote).tokens, style).join('\n\n').split('\n').map((line) => `${style.dim('│')} ${line}`).join('\n');
    case 'list':
      return list(token as Tokens.List, style);
    case 'hr':
      return style.dim('─'.repeat(20));
    case 'table': {
      const table = token as Tokens.Table;
      const row = (cells: Tokens.TableCell[]) => cells.map((cell) => inline(cell.tokens, style)).join('  │  ');
      return [style.bold(row(table.header)), ...table.rows.map(row)].join('\n');
    }
    case 'html':
      return (token as Tokens.HTML).text.trimEnd();
    default:
      return 'tokens' in token && token.tokens ? inline(token.tokens, style) : (token as { text?: string }).text ?? token.raw;
  }
}

function list(token: Tokens.List, style: Style): string {
  const start = typeof token.start === 'number' ? token.start : 1;
  return token.items
    .map((item, i) => {
      const marker = token.ordered ? `${start + i}.` : '•';
      const box = item.task ? (item.checked ? '[x] ' : '[ ] ') : '';
      const body = blocks(item.tokens, style).join('\n');
      const [first, ...rest] = body.split('\n');
      const pad = ' '.repeat(marker.length + 1);
      return [`${marker} ${box}${first ?? ''}`, ...rest.map((line) => (line ? pad + line : line))].join('\n');
    })
    .join('\n');
}

function inline(tokens: Token[] | undefined, style: Style): string {
  return (tokens ?? []).map((token) => inlineToken(token, style)).join('');
}

function inlineToken(token: Token, style: Style): string {
  switch (token.type) {
    case 'strong':
      return style.bold(inline((token as Tokens.Strong).tokens, style));
    case 'em':
      return style.italic(inline((token as Tokens.Em).tokens, style));
    case 'del':
      return `~${inline((token as Tokens.Del).tokens, style)}~`;
    case 'codespan':
      return style.yellow((token as Tokens.Codespan).text);
    case 'br':
      return '\n';
    case 'link': {
      const link = token as Tokens.Link;
      const text = inline(link.tokens, style);
      return text === link.href ? style.underline(link.href) : `${text} (${style.underline(link.href)})`;
    }
    case 'image':
      return `[image: ${(token as Tokens.Image).text}] (${(token as Tokens.Image).href})`;
    case 'escape':
      return (token as Tokens.Escape).text;
    case 'text':
      return 'tokens' in token && token.tokens ? inline(token.tokens, style) : (token as Tokens.Text).text;
    default:
      return token.raw;
  }
}
