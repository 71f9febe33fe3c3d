import type { Item } from './items'

interface Props {
  item: Item
  onToggle: (id: string) => void
  onRemove: (id: string) => void
}

export default function ItemRow({ item, onToggle, onRemove }: Props) {
  return (
    <li className={item.done ? 'item done' : 'item'}>
      <label className="item-label">
        <input type="checkbox" checked={item.done} onChange={() => onToggle(item.id)} />
        <span className="item-text">{item.text}</span>
      </label>
      <button type="button" className="remove" aria-label={`Remove ${item.text}`} onClick={() => onRemove(item.id)}>
        Remove
      </button>
    </li>
  )
}
