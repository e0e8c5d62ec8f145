"""People's names for synthetic North Carolina students, grouped by heritage.

The groups and their weights loosely follow the make-up of NC public high schools (NCDPI
statistical profile: about 44% White, 25% Black, 21% Hispanic, 5% Asian, 1% American Indian,
the rest two or more races). The point is not demography but realistic variety: accented
letters (José, Zoë, Nguyễn), apostrophes (O'Brien, D'Angelo), hyphens (García-López,
Mary-Kate), particles (De La Cruz) and generational suffixes, the names that break naive
transcript code.
"""

from __future__ import annotations

from dataclasses import dataclass


def _names(text: str) -> tuple[str, ...]:
    """A comma-separated list (names may contain spaces, hyphens and apostrophes)."""
    return tuple(name.strip() for name in text.split(",") if name.strip())


@dataclass(frozen=True)
class NameGroup:
    """First names by gender and last names of one heritage group."""

    key: str
    weight: int
    male: tuple[str, ...]
    female: tuple[str, ...]
    last: tuple[str, ...]


_ANGLO = NameGroup(
    key="anglo",
    weight=42,
    male=_names(
        """
        James, William, John, Noah, Liam, Mason, Carter, Hunter, Tyler, Cody, Bryson, Landon,
        Colton, Wyatt, Brantley, Easton, Grayson, Jackson, Caleb, Ethan, Luke, Logan, Owen,
        Henry, Samuel, Benjamin, Thomas, Andrew, Matthew, Christopher, Dalton, Austin, Chase,
        Garrett, Parker, Walker, Tucker, Cooper, Hudson, Bennett, Reid, Graham, Jack, Wesley,
        Jacob, Daniel, Ryan, Connor, Brody, Eli, Silas, Rhett
        """
    ),
    female=_names(
        """
        Emma, Olivia, Ava, Madison, Abigail, Emily, Hannah, Elizabeth, Sarah, Anna, Caroline,
        Mary, Katherine, Grace, Ella, Addison, Avery, Harper, Kaylee, Brooklyn, Savannah, Lily,
        Chloe, Allison, Lauren, Morgan, Taylor, Riley, Peyton, Reagan, Mckenzie, Ansley,
        Lillian, Margaret, Claire, Sydney, Jordan, Haley, Kinsley, Paisley, Bailey, Mary-Kate,
        Anna Grace, Emmy, Sadie, Lucy, Molly, Josie, Hadley
        """
    ),
    last=_names(
        """
        Smith, Johnson, Williams, Brown, Jones, Miller, Davis, Wilson, Moore, Taylor, Anderson,
        Thomas, Martin, Thompson, White, Harris, Clark, Lewis, Walker, Hall, Allen, Young,
        King, Wright, Hill, Scott, Green, Adams, Baker, Nelson, Carter, Mitchell, Roberts,
        Phillips, Campbell, Parker, Evans, Edwards, Collins, Stewart, Morris, Murphy, Cook,
        Rogers, Morgan, Cooper, Peterson, Reed, Bailey, Bell, Kelly, Howard, Ward, Cox,
        Richardson, Wood, Watson, Brooks, Bennett, Gray, Hughes, Price, Sanders, Myers, Long,
        Ross, Foster, Powell, Jenkins, Perry, Russell, Sullivan, Barnes, Fisher, Henderson,
        Coleman, Simmons, Patterson, Jordan, Reynolds, Hamilton, Graham, Wallace, West, Cole,
        Hayes, Gibson, Ellis, Stevens, Tucker, Porter, Hunter, Hicks, Crawford, Boyd, Mason,
        Warren, Dixon, Burns, Gordon, Shaw, Holmes, Rice, Robertson, Hunt, Black, Daniels,
        Palmer, Mills, Grant, Knight, Ferguson, Stone, Hawkins, Dunn, Perkins, Hudson, Spencer,
        Stephens, Pierce, Berry, Matthews, Arnold, Wagner, Willis, Ray, Watkins, Olson,
        Carroll, Duncan, Snyder, Hart, Cunningham, Bradley, Lane, Andrews, Harper, Fox, Riley,
        Armstrong, Carpenter, Weaver, Greene, Lawrence, Elliott, Sims, Austin, Peters,
        Kelley, Franklin, Lawson, Fields, Ryan, Schmidt, Carr, Wheeler,
        Chapman, Oliver, Montgomery, Richards, Williamson, Johnston, Banks, Meyer, Bishop,
        McCoy, Howell, Morrison, Hansen, Harrington, McDonald, McLean, McNeill, MacLeod,
        O'Brien, O'Neal, O'Connor, Pope, Faircloth, Honeycutt, Tart, Barefoot, Godwin,
        Lassiter, Strickland, Massengill, Pittman, Bullard, Hinson, Blackwelder, Yount,
        Starnes, Triplett, Shore, Eller, Greer, Absher, Spainhour, Stroupe
        """
    ),
)

_BLACK = NameGroup(
    key="black",
    weight=25,
    male=_names(
        """
        Jaylen, Jamal, Malik, Darius, DeShawn, Jalen, Marcus, Terrell, Andre, Xavier, Isaiah,
        Elijah, Josiah, Jeremiah, Cameron, Kendrick, Tremaine, Javon, Jaquan, Ja'Marcus,
        Le'Andre, D'Angelo, Trevon, Kameron, Khalil, Zion, Amari, Jace, Micah, Omari, Tyrese,
        Quentin, Demetrius, Cedric, Reginald, Dorian, Corey, Bryce, Kobe, Jordan, Christian,
        Aiden, Nasir, Ty'Quan, Da'Shawn, Lamont, Rashad, Darnell
        """
    ),
    female=_names(
        """
        Aaliyah, Jasmine, Destiny, Imani, Kennedy, Nia, Zaria, Aniyah, Jada, Kiara, Brianna,
        Makayla, Taniya, Tamia, Shaniya, Janiyah, Ayanna, Jordyn, Amani, Khadijah, Asia,
        Diamond, Ebony, Keisha, Latoya, Monique, Precious, Raven, Shanice, Tiara, Zoë, Nevaeh,
        Journee, Londyn, Sa'Niyah, Ja'Kayla, De'Asia, Mya, Kayla, Alana, Gabrielle, Morgan,
        Simone, Danielle, Jayla, Amaya, Kamari, Laila
        """
    ),
    last=_names(
        """
        Williams, Johnson, Brown, Jones, Jackson, Davis, Harris, Robinson, Thomas, Thompson,
        Moore, Smith, White, Wilson, Walker, Green, Washington, Jefferson, Banks, Freeman,
        Mack, Battle, Bullock, Alston, McNeil, McMillan, McCullers, McLaurin, Boykin, Cherry,
        Dancy, Exum, Farrar, Hargrove, Jeffries, Leach, Mangum, Outlaw, Pettiford, Ruffin,
        Spruill, Staton, Tillery, Umstead, Vick, Whitaker, Wynn, Yancey, Artis, Barnes, Best,
        Blount, Bryant, Coley, Daye, Faison, Gatling, Hairston, Hinton, Holloway, Langley,
        Lyons, Mitchell, Norfleet, Person, Rascoe, Shaw, Speight, Terry, Tyson, Wall, Watford,
        Baptiste, St. Clair, Okafor, Mensah, Diallo, Tesfaye, Adeyemi, Nwosu, Kamara
        """
    ),
)

_HISPANIC = NameGroup(
    key="hispanic",
    weight=20,
    male=_names(
        """
        José, Jesús, Ángel, Luis, Carlos, Juan, Miguel, Alejandro, Diego, Mateo, Santiago,
        Sebastián, Matías, Julián, Andrés, Adrián, Martín, Emiliano, Joaquín, Nicolás, Tomás,
        Rubén, Héctor, Óscar, Iván, Jorge, Fernando, Ricardo, Eduardo, Javier, Gael, Leonardo,
        Israel, Josué, Efraín, Jonathan, Kevin, Bryan, Christopher, Anthony, Brayan,
        Juan Pablo, José Luis, Jean-Carlos, Yandel, Dylan, Daniel, Elías
        """
    ),
    female=_names(
        """
        María, Sofía, Valentina, Camila, Isabella, Lucía, Ximena, Valeria, Daniela, Gabriela,
        Mariana, Natalia, Andrea, Alejandra, Fernanda, Guadalupe, Yesenia, Jazmín, Itzel,
        Dulce, Araceli, Belén, Inés, Mía, Renata, Regina, Jimena, Paola, Karla, Génesis,
        Yaretzi, Abril, Noemí, Aylin, Dayana, Leslie, Angélica, Evelyn, Ashley, María José,
        Ana Sofía, Marisol, Rocío, Xiomara, Nayeli, Allison
        """
    ),
    last=_names(
        """
        García, Rodríguez, Martínez, Hernández, López, González, Pérez, Sánchez, Ramírez,
        Torres, Flores, Rivera, Gómez, Díaz, Reyes, Morales, Cruz, Ortiz, Gutiérrez, Chávez,
        Ramos, Ruiz, Álvarez, Mendoza, Castillo, Jiménez, Moreno, Romero, Herrera, Medina,
        Aguilar, Vargas, Castro, Guzmán, Fernández, Juárez, Muñoz, Domínguez, Vásquez, Salazar,
        Rojas, Delgado, Peña, Ríos, Cortés, Núñez, Ibarra, Cabrera, Sandoval, Orellana,
        Pacheco, Contreras, Zúñiga, Quintanilla, Villanueva, Benítez, Espinoza, Solís,
        Cárdenas, Maldonado, Escobar, Velásquez, De La Cruz, De León, Del Valle, Santa María,
        Mejía, Argueta, Portillo
        """
    ),
)

_VIETNAMESE = NameGroup(
    key="vietnamese",
    weight=2,
    male=_names(
        """
        Minh, Quang, Hùng, Tuấn, Bảo, Khang, Phúc, Huy, Long, Đức
        """
    ),
    female=_names(
        """
        Linh, Thảo, Ngọc, Anh, Trâm, Vy, Hương, Mai, Nhi, Uyên
        """
    ),
    last=_names(
        """
        Nguyễn, Trần, Lê, Phạm, Hoàng, Huỳnh, Võ, Đặng, Bùi, Đỗ
        """
    ),
)

_SOUTH_ASIAN = NameGroup(
    key="south_asian",
    weight=2,
    male=_names(
        """
        Aarav, Arjun, Rohan, Vihaan, Ishaan, Aditya, Krish, Siddharth
        """
    ),
    female=_names(
        """
        Ananya, Priya, Diya, Aanya, Saanvi, Ishita, Meera, Kavya
        """
    ),
    last=_names(
        """
        Patel, Shah, Reddy, Krishnan, Iyer, Sharma, Gupta, Desai, Rao
        """
    ),
)

_EAST_ASIAN = NameGroup(
    key="east_asian",
    weight=2,
    male=_names(
        """
        Wei, Jun, Hao, Ji-ho, Min-jun, Seo-jun, Kenji, Daniel, Ethan
        """
    ),
    female=_names(
        """
        Mei, Xin, Yuna, Ji-woo, Seo-yeon, Hana, Grace, Chloé, Emily
        """
    ),
    last=_names(
        """
        Chen, Wang, Zhang, Liu, Li, Kim, Park, Choi, Lee, Tanaka
        """
    ),
)

_HMONG = NameGroup(
    key="hmong",
    weight=1,
    male=_names(
        """
        Tou, Pao, Kou, Neng, Fue, Chue
        """
    ),
    female=_names(
        """
        Mai, Nou, Pa, Yer, Kia, Bao
        """
    ),
    last=_names(
        """
        Vang, Xiong, Yang, Thao, Moua, Lor, Her, Lee
        """
    ),
)

# The Lumbee Tribe (Robeson, Hoke, Scotland counties): the largest tribe east of the Mississippi.
_LUMBEE = NameGroup(
    key="lumbee",
    weight=1,
    male=_names(
        """
        Dakota, Cole, Jace, Brantley, Hunter, Kade, Talon, Bryce
        """
    ),
    female=_names(
        """
        Cheyenne, Kaylee, Madison, Brooke, Harley, Jaylee, Shelby
        """
    ),
    last=_names(
        """
        Locklear, Oxendine, Chavis, Hunt, Jacobs, Lowry, Brayboy, Dial, Revels, Sampson,
        Cummings, Bullard, Hammonds, Emanuel, Woods
        """
    ),
)

_OTHER = NameGroup(
    key="other",
    weight=5,
    male=_names(
        """
        Noël, André, Björn, Seán, Søren, Ömer, Yusuf, Omar, Karim, Ali, Rafael, Luca, Matteo,
        Dmitri, Nikolai, Aleksander, François
        """
    ),
    female=_names(
        """
        Zoë, Chloë, Renée, Noémie, Siobhán, Aoife, Amélie, Anaïs, Léa, Fatima, Layla, Yasmin,
        Amira, Sofia, Aleksandra, Ingrid, Maëlle
        """
    ),
    last=_names(
        """
        Müller, Schäfer, Kowalski, Nowak, Ivanov, Petrović, Jović, Öztürk, Yılmaz, Haddad,
        Khoury, Abdullah, Hassan, Rahman, Svensson, Ødegaard, Rossi, Esposito, D'Amico, Dubois,
        Lefèvre, Côté, Beaulieu, Murray, O'Sullivan, Ní Bhriain, Van der Berg, da Silva,
        Gonçalves, Smith-Jones
        """
    ),
)

GROUPS: tuple[NameGroup, ...] = (
    _ANGLO,
    _BLACK,
    _HISPANIC,
    _VIETNAMESE,
    _SOUTH_ASIAN,
    _EAST_ASIAN,
    _HMONG,
    _LUMBEE,
    _OTHER,
)

# Robeson County (780) and its neighbours are home to most of the Lumbee: weight them there.
LUMBEE_COUNTIES = frozenset({"Robeson", "Hoke", "Scotland", "Cumberland"})

# Generational suffixes as NC transcripts print them.
SUFFIXES: tuple[str, ...] = ("Jr.", "Jr.", "Jr.", "II", "III", "III", "IV", "Sr.")
