import { useEffect, useState, type FormEvent } from 'react'
import ItemRow from './ItemRow'
import { ITEM, ITEMS, STORAGE_KEY, TAGLINE, TITLE } from './config'
import { MAX_TEXT, addItem, loadItems, openCount, removeItem, saveItems, toggleItem } from './items'

interface Props {
  storage: Storage
}

export default function App({ storage }: Props) {
  const [items, setItems] = useState(() => loadItems(storage, STORAGE_KEY))
  const [draft, setDraft] = useState('')

  useEffect(() => {
    saveItems(storage, STORAGE_KEY, items)
  }, [storage, items])

  function add(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    setItems((current) => addItem(current, draft))
    setDraft('')
  }

  const open = openCount(items)

  return (
    <main className="app">
      <header className="app-header">
        <h1>{TITLE}</h1>
        <p className="tagline">{TAGLINE}</p>
      </header>
      <form className="add-form" onSubmit={add}>
        <input
          aria-label={`New ${ITEM}`}
          placeholder={`Add a ${ITEM}…`}
          value={draft}
          maxLength={MAX_TEXT}
          onChange={(event) => setDraft(event.target.value)}
        />
        <button type="submit">Add</button>
      </form>
      <p className="summary">
        <strong id="open-count">{open}</strong> open {open === 1 ? ITEM : ITEMS}
        {items.length > open ? `, ${items.length - open} done` : ''}
      </p>
      <ul id="items" className="items">
        {items.map((item) => (
          <ItemRow
            key={item.id}
            item={item}
            onToggle={(id) => setItems((current) => toggleItem(current, id))}
            onRemove={(id) => setItems((current) => removeItem(current, id))}
          />
        ))}
      </ul>
      {items.length === 0 && <p className="empty">No {ITEMS} yet: type one above and press Enter.</p>}
    </main>
  )
}
