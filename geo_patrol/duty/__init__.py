"""River chiefs (河长) and their patrol duty (巡河考核).

appointments: who is chief of which stretch, at which level, for which side, when (and the
joint pairs); stretches: a river, segments or two points made into segments; roster: an
office's roster file read into appointments; periods: the calendar periods of duty in China
Standard Time; rules: how often and what counts; assessment: per chief per period, with
each candidate patrol and why it counted; rollups: shares meeting duty and their trend;
reminders: chiefs whose period ends soon with duty unmet, and the daily digest; map_layer:
the chiefs' stretches coloured by their duty (the map's layer, the phone's own stretch).
"""
